import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/leak-guard.ts'],
    // Each file starts its own emulator on a free port, so files can run side by side.
    pool: 'forks',
    testTimeout: 20_000,
    typecheck: { enabled: false },
  },
});
