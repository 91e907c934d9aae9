// One Jest configuration for the whole workspace. The code is native ES modules (NestJS 12 is
// ESM-only), so Jest runs with --experimental-vm-modules and swc compiles TypeScript to ESM.
const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2024',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const moduleNameMapper = {
  '^@clearline/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

const common = {
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swcTransform },
  moduleNameMapper,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.*/dist/', '<rootDir>/.cache/'],
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'], testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$', '/node_modules/'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int.spec.ts'], slowTestThreshold: 30 },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/*-e2e/**/*.e2e.spec.ts'], slowTestThreshold: 120 },
  ],
};
