/**
 * Output paths (--out, --report, --trace, …) checked before a command does any work, so a
 * typo does not cost a whole run and then fail at the end. Each check really tries: a file is
 * created (then removed) where it will be written, a folder is created one level at a time
 * with plain mkdir. Not `mkdir -p` (fs.mkdirSync recursive): on Node 20 that loops for ever
 * under /proc, whose mkdir answers ENOENT for a parent that stat says exists.
 */
import { closeSync, constants, mkdirSync, openSync, rmdirSync, statSync, unlinkSync, accessSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

const reason = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Readonly<Record<string, string>> = {
    ENOENT: 'cannot be created there',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'is a directory',
    ENOSPC: 'no space left on the device',
  };
  return code !== undefined && words[code] !== undefined ? `${words[code]} (${code})` : e instanceof Error ? e.message : String(e);
};

const statOf = (p: string): Stats | undefined => {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
};

/** Creates and removes `file` (which must not exist yet) to prove it can be written. */
function probeNewFile(file: string): void {
  closeSync(openSync(file, 'wx'));
  unlinkSync(file);
}

/**
 * A file the command will write (replacing it if it exists): its folder must exist and the
 * file must be creatable there. Returns the absolute path.
 */
export function checkOutputFile(flag: string, text: string, cwd: string): string {
  const file = resolve(cwd, text);
  const bad = (why: string): UsageError => new UsageError(`${flag} ${text}: ${why}`);
  const st = statOf(file);
  if (st?.isDirectory() === true) throw bad('is a directory; give a file name');
  const dir = dirname(file);
  const dst = statOf(dir);
  if (dst === undefined) throw bad(`folder ${dir} does not exist`);
  if (!dst.isDirectory()) throw bad(`${dir} is not a folder`);
  try {
    if (st !== undefined) accessSync(file, constants.W_OK);
    else probeNewFile(file);
  } catch (e) {
    throw bad(`cannot write it: ${reason(e)}`);
  }
  return file;
}

/**
 * A folder the command writes files into: created (with its missing parents, one mkdir at a
 * time) if needed, then checked by creating a file in it. Returns the absolute path.
 */
export function prepareOutputDir(flag: string, text: string, cwd: string): string {
  const dir = resolve(cwd, text);
  const bad = (why: string): UsageError => new UsageError(`${flag} ${text}: ${why}`);
  // The missing levels, nearest the root first. Each step moves up one level, so this ends at '/'.
  const missing: string[] = [];
  let at = dir;
  let st = statOf(at);
  while (st === undefined && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
    st = statOf(at);
  }
  if (st === undefined) throw bad('no part of the path exists');
  if (!st.isDirectory()) throw bad(`${at} is not a folder`);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw bad(`cannot create folder ${d}: ${reason(e)}`);
    }
  }
  const probe = join(dir, `.kvmlab-write-check-${process.pid}`);
  try {
    probeNewFile(probe);
  } catch (e) {
    // Leave nothing behind that this check created.
    for (const d of [...missing].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
    throw bad(`cannot write into it: ${reason(e)}`);
  }
  return dir;
}
