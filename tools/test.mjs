// `npm test`: the whole suite against real infrastructure. Starts Kafka, checks PostgreSQL and
// Redis (deploy/local/infra up), builds, type-checks, lints, then runs Jest's three tiers (unit,
// integration, end-to-end), then the short chaos run, and prints one last line: `N passed, N failed`.
// `npm test -- --unit` runs only the unit tier, which needs no servers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
// The dashboard's browser test (apps/platform-e2e/src/dashboard.e2e.spec.ts) drives Debian's Chromium:
// a fresh machine gets it from apt here, the package lists refreshed only if the first try fails.
const CHROMIUM = '/usr/bin/chromium';
if (!unitOnly && !existsSync(CHROMIUM)) {
  console.log(`\n== chromium: ${CHROMIUM} is missing (the dashboard e2e test drives it); installing it with apt-get`);
  const install = () => run('apt-get install -y --no-install-recommends chromium', 'apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { DEBIAN_FRONTEND: 'noninteractive' });
  const installed = install() || (run('apt-get update', 'apt-get', ['update']) && install());
  if (!installed) console.error(`could not install chromium (needs root and apt); the dashboard e2e test will fail without ${CHROMIUM}`);
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
// The short chaos run (tools/chaos.mjs): the platform under crashes, a frozen broker, blackholed and
// reset database and Redis connections, then every payment at rest and every invariant held. After
// Jest, alone on the machine, since it freezes the shared broker. A fixed seed keeps CI repeatable;
// `npm run chaos` runs other seeds and the full form. Counted as one test.
if (!unitOnly && jestArguments.length === 0) {
  const chaosPassed = run('chaos (short form, seed 7)', process.execPath, [join(root, 'tools/chaos.mjs'), '--short', '--seed', '7']);
  if (chaosPassed) passed += 1;
  else failed += 1;
}
// Last, the leak scan (tools/leak-scan.mjs): no test card number, CVV or secret in any log, topic,
// database (the chaos run's included), Redis key or recorded HTTP answer the suite left behind.
if (!unitOnly && jestArguments.length === 0) {
  checks.push(['leak scan', run('leak scan', process.execPath, [join(root, 'tools/leak-scan.mjs'), '--databases', 'clearline_test,clearline,clearline_chaos'])]);
}
const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
if (failedChecks.length > 0) console.log(`failed checks: ${failedChecks.join(', ')}`);
failed += failedChecks.length;
console.log(`wall time ${Math.round((performance.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
