/**
 * Writes terraform/schemas/ from shared/warehouse/schemas.ts: one BigQuery schema file per
 * table (<table>.json, the format `bq mk --schema` and google_bigquery_table take) and
 * tables.json (dataset, description, partitioning, clustering), views.json (the
 * de-duplicated views of shared/warehouse/dedupedViews.ts), and the SQL of the prices view
 * (<view>.sql.tftpl). Terraform cannot run
 * TypeScript, so the generated files are committed and test/terraform.test.ts fails when
 * they drift from TABLES. Run: npx tsx scripts/terraformSchemas.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEDUPED_VIEWS, dedupedViewSql, type DedupedView } from '../shared/warehouse/dedupedViews.js';
import { PRICES_VIEW, TABLES, pricesViewQuery, type TableSchema } from '../shared/warehouse/schemas.js';

/** One column as BigQuery's schema JSON spells it. */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode: string;
  readonly description: string;
}

/** What terraform/warehouse.tf needs besides the columns. */
export interface TerraformTableSettings {
  readonly dataset: 'raw' | 'curated';
  readonly description: string;
  /** Day partitioning column, or null for an unpartitioned table. */
  readonly partition_field: string | null;
  readonly clustering: readonly string[];
}

/** What terraform/warehouse.tf needs to create a de-duplicated view. */
export interface TerraformViewSettings {
  readonly dataset: 'raw' | 'curated';
  readonly table: string;
  readonly description: string;
  /** The view's query with `{table}` where the table's `project.dataset.table` goes. */
  readonly query: string;
}

/** The folder the files go to, relative to this script. */
export const TERRAFORM_SCHEMAS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../terraform/schemas');

const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * The files that describe `tables` to Terraform, keyed by file name.
 * @param tables - the tables to describe (TABLES in production)
 * @returns file name to file content (pretty JSON with a trailing newline)
 */
export function terraformSchemaFiles(tables: Readonly<Record<string, TableSchema>>, views: Readonly<Record<string, DedupedView>> = DEDUPED_VIEWS): Record<string, string> {
  const files: Record<string, string> = {};
  const settings: Record<string, TerraformTableSettings> = {};
  for (const [key, table] of Object.entries(tables)) {
    if (key !== table.name) throw new Error(`TABLES key "${key}" differs from its table name "${table.name}"; make them equal.`);
    const fields: BigQueryField[] = table.columns.map((c) => ({ name: c.name, type: c.type, mode: c.mode, description: c.description }));
    files[`${table.name}.json`] = toJson(fields);
    settings[table.name] = {
      dataset: table.dataset,
      description: table.description,
      partition_field: table.partitionBy,
      clustering: table.clusterBy,
    };
  }
  files['tables.json'] = toJson(settings);
  const viewSettings: Record<string, TerraformViewSettings> = {};
  for (const [key, view] of Object.entries(views)) {
    const table = tables[view.table];
    if (key !== view.name || !table) throw new Error(`View "${key}" must be keyed by its name and read a table of TABLES.`);
    viewSettings[view.name] = { dataset: table.dataset, table: view.table, description: view.description, query: dedupedViewSql(view, '{table}') };
  }
  files['views.json'] = toJson(viewSettings);
  return files;
}

/**
 * The `prices` view's SQL as a Terraform template (`<view>.sql.tftpl`): `${project}` and
 * `${dataset}` are filled in by templatefile() in terraform/pricesView.tf.
 * @returns file name to file content
 */
export function terraformViewFiles(): Record<string, string> {
  return { [`${PRICES_VIEW.name}.sql.tftpl`]: `${pricesViewQuery((table) => `\${project}.\${dataset}.${table}`)}\n` };
}

function main(): void {
  mkdirSync(TERRAFORM_SCHEMAS_DIR, { recursive: true });
  const files = terraformSchemaFiles(TABLES);
  // Remove files of tables that no longer exist, so Terraform does not keep a stale table.
  for (const existing of readdirSync(TERRAFORM_SCHEMAS_DIR)) {
    if (existing.endsWith('.json') && !(existing in files)) rmSync(join(TERRAFORM_SCHEMAS_DIR, existing));
  }
  const all = { ...files, ...terraformViewFiles() };
  for (const [name, content] of Object.entries(all)) writeFileSync(join(TERRAFORM_SCHEMAS_DIR, name), content);
  console.log(`wrote ${Object.keys(all).length} files to terraform/schemas/`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
