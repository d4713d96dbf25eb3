/**
 * YCSB workload property files: Java `.properties` parsing (as `java.util.Properties.load`
 * reads them), the bundled workloads A–F, and `-p name=value` overrides.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Properties = Record<string, string>;

/** The bundled workloads (YCSB's own files, in `bench/workloads/`). */
export const WORKLOAD_NAMES: readonly string[] = ['a', 'b', 'c', 'd', 'e', 'f'];

const WHITESPACE = new Set([' ', '\t', '\f']);

/**
 * Parses a Java .properties-style workload file (comments with # or !, key=value, blank
 * lines), following `java.util.Properties.load`: `=`, `:` or whitespace separates key and
 * value; a line ending in an odd number of backslashes continues on the next line; `\t`,
 * `\n`, `\r`, `\f`, `\uXXXX` and `\<other>` escapes; later keys override earlier ones.
 * As in Java, leading whitespace of the value is dropped and trailing whitespace is kept
 * (resolveSettings trims values before interpreting them).
 */
export function parseProperties(text: string): Properties {
  const props: Properties = Object.create(null) as Properties;
  const lines = text.split(/\r\n|\r|\n/);
  let i = 0;
  while (i < lines.length) {
    let line = lines[i++].replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    // Join continuation lines (odd number of trailing backslashes).
    while (endsWithOddBackslashes(line)) {
      line = line.slice(0, -1);
      if (i >= lines.length) break;
      line += lines[i++].replace(/^[ \t\f]+/, '');
    }
    // Key: up to the first unescaped '=', ':' or whitespace.
    let k = 0;
    let keyEnd = -1;
    while (k < line.length) {
      const c = line[k];
      if (c === '\\') {
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || WHITESPACE.has(c)) {
        keyEnd = k;
        break;
      }
      k++;
    }
    let rawKey: string;
    let rest: string;
    if (keyEnd < 0) {
      rawKey = line;
      rest = '';
    } else {
      rawKey = line.slice(0, keyEnd);
      let v = keyEnd;
      while (v < line.length && WHITESPACE.has(line[v])) v++;
      if (v < line.length && (line[v] === '=' || line[v] === ':')) v++;
      while (v < line.length && WHITESPACE.has(line[v])) v++;
      rest = line.slice(v);
    }
    props[unescape(rawKey)] = unescape(rest);
  }
  return { ...props };
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let j = s.length - 1; j >= 0 && s[j] === '\\'; j--) n++;
  return n % 2 === 1;
}

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let j = 0; j < s.length; j++) {
    const c = s[j];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++j];
    if (n === undefined) break;
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = s.slice(j + 1, j + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error(`Malformed \\uxxxx encoding in properties: "\\u${hex}"`);
        out += String.fromCharCode(parseInt(hex, 16));
        j += 4;
        break;
      }
      default: out += n;
    }
  }
  return out;
}

/** The repository root: the nearest directory above this module holding package.json
 *  (bench/ycsb/ in tests, dist/bench/ycsb/ when built). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`Cannot find the repository root (no package.json above ${fileURLToPath(import.meta.url)})`);
    dir = up;
  }
}

/** The directory of the bundled workload files. */
export function workloadsDir(): string {
  return join(repositoryRoot(), 'bench', 'workloads');
}

/**
 * 'a'..'f' or 'workloada' → bench/workloads/workloada (resolved relative to the
 * repository root); anything else is a path to a file (relative to the working
 * directory). Returns the workload's short name ('a' for workloada, else the file's base
 * name) and its properties. Unknown file → Error naming the path and the valid names.
 */
export function loadWorkload(nameOrPath: string): { name: string; properties: Properties } {
  const m = /^(?:workload)?([a-f])$/i.exec(nameOrPath);
  let path: string;
  if (m) {
    path = join(workloadsDir(), `workload${m[1].toLowerCase()}`);
  } else {
    path = resolve(nameOrPath);
  }
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new Error(
      `Unknown workload "${nameOrPath}": no file at ${path}. ` +
        `Use one of ${WORKLOAD_NAMES.join(', ')} (or workloada … workloadf, the files in ${workloadsDir()}), ` +
        `or the path of a YCSB workload file.`,
    );
  }
  const base = basename(path);
  const short = /^workload([a-f])$/.exec(base);
  return { name: short ? short[1] : base, properties: parseProperties(readFileSync(path, 'utf8')) };
}

/** Parses `name=value` overrides (from -p), split at the first '='; later ones win.
 *  Error with an actionable message when '=' is missing or the name is empty. */
export function parseOverrides(list: string[]): Properties {
  const props: Properties = {};
  for (const arg of list) {
    const eq = arg.indexOf('=');
    if (eq < 0) {
      throw new Error(
        `Property override "${arg}" has no '=': -p expects name=value (e.g., -p operationcount=99999)`,
      );
    }
    const name = arg.slice(0, eq).trim();
    if (name === '') {
      throw new Error(`Property override "${arg}" has an empty name: -p expects name=value (e.g., -p recordcount=1000)`);
    }
    props[name] = arg.slice(eq + 1);
  }
  return props;
}
