/**
 * A large text (a 40 MB result document) as UTF-8 chunks of about `size` characters, so that
 * writing it never holds a second full copy as bytes (fs.writeFile and stream.write of a string
 * each make one). Chunks end between characters: a surrogate pair is never split.
 */
export function* utf8Chunks(text: string, size = 1 << 20): Generator<Buffer> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // keep a high surrogate with its low half
    yield Buffer.from(text.slice(start, end), 'utf8');
    start = end;
  }
}
