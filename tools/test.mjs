// `npm test`: the whole suite against real infrastructure. Starts Kafka, checks PostgreSQL and
// Redis (deploy/local/infra up), builds, type-checks, lints, then runs Jest's three tiers (unit,
// integration, end-to-end) and prints one last line: `N passed, N failed`.
// `npm test -- --unit` runs only the unit tier, which needs no servers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const unitOnly = process.argv.includes('--unit');
const jestArguments = process.argv.slice(2).filter((argument) => argument !== '--unit');
const started = performance.now();

function run(label, command, args, env = {}) {
  console.log(`\n== ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

const checks = [];
if (!unitOnly) {
  if (!run('infrastructure', 'bash', [join(root, 'deploy/local/infra'), 'up'])) {
    console.error('the infrastructure did not come up; see above');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}
checks.push(['build', run('build', process.execPath, [join(root, 'tools/build.mjs')])]);
checks.push(['typecheck', run('typecheck', join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--noEmit'])]);
checks.push(['lint', run('lint (module boundaries included)', 'npm', ['run', '--silent', 'lint'])]);

const reportPath = join(root, 'reports/jest-results.json');
mkdirSync(join(root, 'reports'), { recursive: true });
const selected = unitOnly ? ['--selectProjects', 'unit'] : [];
run('jest', process.execPath, [
  '--experimental-vm-modules', '--no-warnings=ExperimentalWarning',
  join(root, 'node_modules/jest/bin/jest.js'), '--json', `--outputFile=${reportPath}`, ...selected, ...jestArguments,
], { DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clearline_test' });

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + report.numRuntimeErrorTestSuites;
  const byTier = {};
  for (const suite of report.testResults) {
    const tier = suite.name.includes('-e2e/') ? 'e2e' : suite.name.endsWith('.int.spec.ts') ? 'integration' : 'unit';
    byTier[tier] ??= { passed: 0, failed: 0 };
    for (const test of suite.assertionResults) byTier[tier][test.status === 'passed' ? 'passed' : 'failed'] += test.status === 'passed' || test.status === 'failed' ? 1 : 0;
  }
  console.log(`\ntests by tier: ${Object.entries(byTier).map(([tier, counts]) => `${tier} ${counts.passed} passed / ${counts.failed} failed`).join(', ')}`);
} catch (error) {
  console.error(`no Jest report at ${reportPath}: ${error.message}`);
  failed += 1;
}
const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
if (failedChecks.length > 0) console.log(`failed checks: ${failedChecks.join(', ')}`);
failed += failedChecks.length;
console.log(`wall time ${Math.round((performance.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
