import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../shared/registry.js';

// The layout is the architecture (README, "Architecture"): these rules keep it so.
const root = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return sourceFiles(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Relative imports of a file (static, dynamic, re-exports and type-only), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((s) => path.join(path.dirname(file), s).replace(/\.js$/, '.ts'));
}

const files = [...sourceFiles('shared'), ...sourceFiles('functions')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Every cycle's files, by Tarjan's strongly connected components (a component of 2+ files, or a self-import). */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!indices.has(f)) visit(f);
  return found;
}

describe('architecture', () => {
  it('every relative import in shared/ and functions/ names a file that exists', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !files.includes(d)).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle in shared/ and functions/ (type-only imports included)', () => {
    expect(cycles()).toEqual([]);
  });

  const models = readdirSync(path.join(root, 'shared', 'models')).filter((n) => statSync(path.join(root, 'shared', 'models', n)).isDirectory());

  it('has one folder per model, each with its math, job definition and chart', () => {
    expect(models.sort()).toEqual(['blackscholes', 'markowitz', 'montecarlo']);
    for (const m of models) {
      for (const file of ['job.ts', 'chart.ts']) expect(files, `${m}/${file}`).toContain(`shared/models/${m}/${file}`);
    }
  });

  it.each(models)('shared/models/%s imports no other model folder, nor ingest', (model) => {
    const offending = [...graph]
      .filter(([f]) => f.startsWith(`shared/models/${model}/`))
      .flatMap(([f, deps]) => deps.filter((d) => (d.startsWith('shared/models/') && !d.startsWith(`shared/models/${model}/`)) || d.startsWith('shared/ingest/')).map((d) => `${f} -> ${d}`));
    expect(offending).toEqual([]);
  });

  it('shared/numerics is pure: it imports only itself, and of node: modules only fs (the kernel reads its .wasm)', () => {
    const offending = [...graph]
      .filter(([f]) => f.startsWith('shared/numerics/'))
      .flatMap(([f, deps]) => deps.filter((d) => !d.startsWith('shared/numerics/')).map((d) => `${f} -> ${d}`));
    expect(offending).toEqual([]);
    const nodeImports = files
      .filter((f) => f.startsWith('shared/numerics/'))
      .filter((f) => /from\s+['"]node:(?!fs['"])/.test(readFileSync(path.join(root, f), 'utf8')));
    expect(nodeImports).toEqual([]);
  });

  it('functions/<name>/index.ts is wiring only: a few lines importing the job layer and one job definition', () => {
    for (const f of files.filter((f) => f.startsWith('functions/'))) {
      const lines = readFileSync(path.join(root, f), 'utf8').split('\n').filter((l) => l.trim() !== '');
      expect(lines.length, f).toBeLessThanOrEqual(10);
    }
  });

  it('the registry lists exactly the functions/ folders, each registering its own name', () => {
    const folders = readdirSync(path.join(root, 'functions')).sort();
    expect([...FUNCTION_NAMES].sort()).toEqual(folders);
    for (const name of folders) {
      expect(readFileSync(path.join(root, 'functions', name, 'index.ts'), 'utf8')).toContain(`cloudEvent('${name}', cloudEventHandler(`);
    }
  });
});
