// Prints "N passed, N failed" from vitest's JSON report, and fails when no test ran.
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2];
if (!path || !existsSync(path)) {
  console.log('0 passed, 0 failed');
  console.error(`no test report at ${path}: the test runner did not finish`);
  process.exit(1);
}

const report = JSON.parse(readFileSync(path, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
console.log(`${passed} passed, ${failed} failed`);

if (passed === 0) {
  console.error('no test passed: a run that tests nothing is not a green run');
  process.exit(1);
}
