import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The arguments and nested blocks one resource (or nested block) of the Google provider accepts. */
export interface BlockSchema {
  readonly attributes: ReadonlySet<string>;
  readonly blocks: ReadonlyMap<string, BlockSchema>;
}

const require = createRequire(import.meta.url);

/** The provider version @cdktf/provider-google was generated from (it records it in every resource). */
export function providerVersion(): string {
  const text = readFileSync(resourceFiles('google_pubsub_topic')[0], 'utf8');
  return /providerVersion: '([^']+)'/.exec(text)?.[1] ?? 'unknown';
}

/** lib/<resource-with-dashes>/ of @cdktf/provider-google: index.js and, for large resources, index-structs/*.js. */
function resourceFiles(type: string): string[] {
  const lib = path.join(path.dirname(require.resolve('@cdktf/provider-google/package.json')), 'lib');
  const dir = path.join(lib, type.replace(/^google_/, '').replace(/_/g, '-'));
  if (!existsSync(dir)) throw new Error(`@cdktf/provider-google has no resource ${type} (looked for ${dir})`);
  const files = [path.join(dir, 'index.js')];
  const structs = path.join(dir, 'index-structs');
  if (existsSync(structs)) files.push(...readdirSync(structs).filter((f) => f.endsWith('.js')).map((f) => path.join(structs, f)));
  return files;
}

/**
 * A resource's schema, read from the HCL synthesis code @cdktf/provider-google generates
 * from the provider's own schema: each `...ToHclTerraform` function lists a block's
 * attributes by their Terraform names, with `isBlock` and the function of each nested
 * block; the resource's top level is its `synthesizeHclAttributes`.
 */
export function resourceSchema(type: string): BlockSchema {
  const code = resourceFiles(type)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const bodies = new Map<string, string>();
  for (const m of code.matchAll(/function (\w+)ToHclTerraform\(struct\) \{([\s\S]*?)\n\}/g)) bodies.set(m[1], m[2]);
  const top = /synthesizeHclAttributes\(\) \{([\s\S]*?)\n {4}\}/.exec(code)?.[1];
  if (!top) throw new Error(`no synthesizeHclAttributes in @cdktf/provider-google's ${type}`);
  const build = (body: string, depth: number): BlockSchema => {
    const attributes = new Set<string>();
    const blocks = new Map<string, BlockSchema>();
    for (const m of body.matchAll(/(\w+): \{\s*value: ([^\n]*),\s*isBlock: (true|false),/g)) {
      const [, name, value, isBlock] = m;
      if (isBlock === 'false') {
        attributes.add(name);
        continue;
      }
      const nested = /(\w+)ToHclTerraform\b/.exec(value.replace(/cdktf\.listMapperHcl\(/, ''))?.[1];
      const nestedBody = nested ? bodies.get(nested) : undefined;
      if (!nestedBody || depth > 12) throw new Error(`cannot follow nested block ${name} of ${type}`);
      blocks.set(name, build(nestedBody, depth + 1));
    }
    return { attributes, blocks };
  };
  return build(top, 0);
}

/** Meta-arguments Terraform accepts on every resource; `dynamic` blocks, at any level, are checked through their content. */
const META_ARGUMENTS = new Set(['for_each', 'count', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Every argument and block name used in a parsed resource (hcl2json's shape: blocks are
 * lists of objects) that the schema does not have, as dotted paths.
 */
export function unknownNames(declared: { [key: string]: Json }, schema: BlockSchema, where: string, topLevel = true): string[] {
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(declared)) {
    if (name === 'dynamic' || (topLevel && META_ARGUMENTS.has(name))) {
      if (name === 'dynamic' && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [blockName, uses] of Object.entries(value)) {
          const block = schema.blocks.get(blockName);
          if (!block) unknown.push(`${where}.dynamic "${blockName}"`);
          else for (const use of asList(uses)) for (const content of asList((use as { [key: string]: Json }).content ?? [])) unknown.push(...unknownNames(content as { [key: string]: Json }, block, `${where}.${blockName}`, false));
        }
      }
      continue;
    }
    const block = schema.blocks.get(name);
    if (block) {
      for (const item of asList(value)) if (item && typeof item === 'object' && !Array.isArray(item)) unknown.push(...unknownNames(item, block, `${where}.${name}`, false));
    } else if (!schema.attributes.has(name)) unknown.push(`${where}.${name}`);
  }
  return unknown;
}

function asList(value: Json): Json[] {
  return Array.isArray(value) ? value : [value];
}
