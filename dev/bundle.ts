/**
 * Builds the function bundle into a directory of one's choosing, with the settings of
 * esbuild.config.mjs, so tests get a fresh bundle without touching dist/.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { REPO_ROOT } from './local';

interface BuildConfig {
  bundleOptions: BuildOptions;
  functionEntries: Record<string, string>;
}

/** Returns the path of <outDir>/<name>/index.js. */
export async function buildFunction(outDir: string, name = 'create-backup'): Promise<string> {
  const configUrl = pathToFileURL(join(REPO_ROOT, 'esbuild.config.mjs')).href;
  const { bundleOptions, functionEntries } = (await import(configUrl)) as BuildConfig;
  const entry = functionEntries[name];
  if (entry === undefined) throw new Error(`esbuild.config.mjs has no function ${name}`);

  const { build } = await import('esbuild');
  const outfile = resolve(outDir, name, 'index.js');
  await build({ ...bundleOptions, entryPoints: [join(REPO_ROOT, entry)], outfile });
  return outfile;
}
