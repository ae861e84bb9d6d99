// Runs in every test file: whatever a test makes the function print to stdout or stderr is
// scanned for the fake secrets, and the file fails if any appeared anywhere.

import { afterAll, expect } from 'vitest';
import { leaks, scanForSecrets } from '../helpers/leaks';

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    scanForSecrets(String(chunk), stream === process.stdout ? 'stdout' : 'stderr');
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

afterAll(() => {
  expect(leaks, 'a fake secret reached output, a result or a response').toEqual([]);
});
