// Types of scripts/nodeRuntime.mjs (plain JavaScript: scripts/build.mjs runs it without a TypeScript loader).
export interface RuntimeSchedule {
  source: string;
  url: string;
  checked: string;
  note?: string;
  runtimes: Record<string, { deprecation: string; decommission: string }>;
}
export const terraformDir: string;
export function runtimeSchedule(dir?: string): RuntimeSchedule;
export function nodeMajor(runtime: unknown): number;
export function runtimeProblem(runtime: string, schedule: RuntimeSchedule, today: Date, marginDays?: number): string | undefined;
export function deployedRuntimes(dir?: string): Promise<Record<string, string>>;
