import path from 'node:path';

// Preloaded into a server process (`node --import`): when it exits it writes which @opentelemetry packages it loaded.
const marker = `${path.sep}@opentelemetry${path.sep}`;
process.on('exit', () => {
  const packages = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const at = file.lastIndexOf(marker);
    if (at >= 0) packages.add(file.slice(at + marker.length).split(path.sep)[0] ?? '');
  }
  process.stderr.write(`loaded @opentelemetry packages: ${JSON.stringify([...packages].sort())}\n`);
});
