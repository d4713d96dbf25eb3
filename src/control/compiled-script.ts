/**
 * Worker threads need JavaScript: the compiled script beside a module, also when that
 * module runs from its TypeScript source (vitest), where the script is in the build
 * output (`npm test` builds first). For modules two folders below the repository root
 * (src/control, bench/ycsb).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `script` (a path relative to the module's folder) compiled; `what` names it in the
 *  error when the build is missing. */
export function compiledScriptUrl(moduleUrl: string, script: string, what: string): URL {
  const here = fileURLToPath(moduleUrl);
  const dir = path.dirname(here);
  const base = here.endsWith('.ts') ? path.join(dir, '..', '..', 'dist', path.basename(path.dirname(dir)), path.basename(dir)) : dir;
  const compiled = path.join(base, script);
  if (!existsSync(compiled)) throw new Error(`${what} script ${compiled} is missing: run \`npm run build\` first`);
  return pathToFileURL(compiled);
}
