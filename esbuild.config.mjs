// Bundles each function under functions/ into dist/<name>/index.js, the file FC loads.
// One self-contained CommonJS file per function: FC's nodejs20 runtime requires it as is,
// and a single file reads faster at cold start than a node_modules tree.
import { build } from 'esbuild';

export const functionEntries = {
  'create-backup': 'functions/create-backup/index.ts',
};

/** Settings shared with the benchmark's baseline bundle, so the two stay comparable. */
export const bundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  // Names survive minification so stack traces and error names stay readable in SLS.
  keepNames: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};

async function buildAll() {
  for (const [name, entry] of Object.entries(functionEntries)) {
    await build({ ...bundleOptions, entryPoints: [entry], outfile: `dist/${name}/index.js` });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAll();
}
