/**
 * Where the built playground is: `kvmlab playground` serves this folder. The app itself is in
 * web/ (built with Vite into app/ before the package is packed).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder holding the built app (index.html and its assets). */
export function playgroundAppDir(): string {
  return fileURLToPath(new URL('../app/', import.meta.url));
}

/** Whether the app has been built (`npm run build:app -w @kvmlab/playground`). */
export function playgroundBuilt(): boolean {
  return existsSync(fileURLToPath(new URL('../app/index.html', import.meta.url)));
}
