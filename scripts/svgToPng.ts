import { execFileSync } from 'node:child_process';

/**
 * Renders an SVG file to PNG with `rsvg-convert` (Debian `librsvg2-bin`), the renderer of
 * GNOME and of most SVG-to-image pipelines: what a reader's viewer shows, not our own idea of it.
 * @throws an Error saying which package to install when rsvg-convert is missing
 */
export function svgToPng(svgPath: string, pngPath: string): void {
  try {
    execFileSync('rsvg-convert', ['--format=png', `--output=${pngPath}`, svgPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('rsvg-convert is not installed: apt-get install librsvg2-bin');
    }
    throw error;
  }
}

/** Whether rsvg-convert can be run on this machine. */
export function hasSvgRenderer(): boolean {
  try {
    execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
