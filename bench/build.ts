/**
 * Builds what the benchmark runs besides dist/: the baseline bundle (with the very settings of
 * esbuild.config.mjs) and the child harness the cold-start and batch runs load in fresh
 * processes. Also breaks the function bundle down by source, to show what our code adds.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';

const ROOT = join(__dirname, '..');
/** Under dist/, which git and Biome already leave alone. */
export const OUT_DIR = join(ROOT, 'dist', 'bench');

export const BUNDLES = {
  function: join(ROOT, 'dist', 'create-backup', 'index.js'),
  baseline: join(OUT_DIR, 'baseline', 'index.js'),
} as const;
export type BundleName = keyof typeof BUNDLES;

export const CHILD_HARNESS = join(OUT_DIR, 'child.cjs');

export interface BundleReport {
  functionBytes: number;
  baselineBytes: number;
  /** Bytes of the function bundle that the baseline bundle does not have, by origin. */
  added: Record<string, number>;
}

/** What the benchmark reads from esbuild.config.mjs, which ships no type declarations. */
interface BuildConfig {
  bundleOptions: BuildOptions;
  functionEntries: Record<string, string>;
}

async function loadBuildConfig(): Promise<BuildConfig> {
  const url = pathToFileURL(join(ROOT, 'esbuild.config.mjs')).href;
  return (await import(url)) as BuildConfig;
}

export async function buildAll(): Promise<BundleReport> {
  const { bundleOptions, functionEntries } = await loadBuildConfig();
  const entry = functionEntries['create-backup'] ?? 'functions/create-backup/index.ts';
  const bundle = async (from: string, outfile: string): Promise<Metafile> => {
    const result = await build({ ...bundleOptions, entryPoints: [from], outfile, metafile: true });
    return result.metafile ?? { inputs: {}, outputs: {} };
  };

  const [functionMeta, baselineMeta] = await Promise.all([
    // Built again beside dist/ only for its metafile; the bytes are those of dist/.
    bundle(join(ROOT, entry), join(OUT_DIR, 'function', 'index.js')),
    bundle(join(__dirname, 'baseline', 'entry.ts'), BUNDLES.baseline),
    build({
      entryPoints: [join(__dirname, 'child.ts')],
      outfile: CHILD_HARNESS,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
    }),
  ]);

  return {
    functionBytes: statSync(BUNDLES.function).size,
    baselineBytes: outputBytes(baselineMeta),
    added: addedByOrigin(functionMeta, baselineMeta),
  };
}

function outputBytes(meta: Metafile): number {
  const output = Object.values(meta.outputs).find((entry) => entry.entryPoint !== undefined);
  return output?.bytes ?? 0;
}

function addedByOrigin(fn: Metafile, baseline: Metafile): Record<string, number> {
  const inBaseline = new Set(Object.keys(baseline.inputs));
  const output = Object.values(fn.outputs).find((entry) => entry.entryPoint !== undefined);
  const added: Record<string, number> = {};

  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    if (inBaseline.has(path)) continue;
    const origin = originOf(path);
    added[origin] = (added[origin] ?? 0) + input.bytesInOutput;
  }
  return added;
}

/** A package name for node_modules paths, else "our code". */
function originOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match?.[1] ?? 'our code';
}
