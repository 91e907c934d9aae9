// Compiles every app and lib from src/ to dist/ as native ES modules with swc (decorator metadata
// included, which NestJS dependency injection needs). Type checking is separate: `npm run typecheck`.
import { transformFile } from '@swc/core';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const swcOptions = JSON.parse(await readFile(join(root, '.swcrc'), 'utf8'));
delete swcOptions.$schema;

async function* sourceFiles(directory) {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.test-kit.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

async function buildProject(projectDirectory) {
  const sourceDirectory = join(projectDirectory, 'src');
  const outputDirectory = join(projectDirectory, 'dist');
  await rm(outputDirectory, { recursive: true, force: true });
  let fileCount = 0;
  for await (const sourcePath of sourceFiles(sourceDirectory)) {
    const outputPath = join(outputDirectory, relative(sourceDirectory, sourcePath)).replace(/\.ts$/, '.js');
    const { code, map } = await transformFile(sourcePath, { ...swcOptions, sourceFileName: relative(dirname(outputPath), sourcePath), configFile: false, swcrc: false });
    await mkdir(dirname(outputPath), { recursive: true });
    await writeFile(outputPath, `${code}\n//# sourceMappingURL=${outputPath.split('/').pop()}.map\n`);
    if (map) await writeFile(`${outputPath}.map`, map);
    fileCount += 1;
  }
  return fileCount;
}

const started = performance.now();
let total = 0;
for (const group of ['libs', 'apps']) {
  for (const entry of await readdir(join(root, group), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const projectDirectory = join(root, group, entry.name);
    const hasSource = await readdir(join(projectDirectory, 'src')).then(() => true, () => false);
    if (hasSource) total += await buildProject(projectDirectory);
  }
}
console.log(`built ${total} files in ${Math.round(performance.now() - started)} ms`);
