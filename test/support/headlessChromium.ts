import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The Chromium binary (Debian's `chromium`), or null when this machine has none. */
export function chromiumBinary(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      execFileSync('which', [name], { stdio: 'ignore' });
      return name;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Runs headless Chromium on a page with no network beyond the page itself and a throwaway
 * profile: `--dump-dom` or `--screenshot=<png>`. Resolves with stdout.
 */
export function runChromium(binary: string, args: readonly string[], url: string): Promise<string> {
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', `--user-data-dir=${profile}`, '--hide-scrollbars'];
  return new Promise((resolve, reject) => {
    execFile(binary, [...flags, ...args, url], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
