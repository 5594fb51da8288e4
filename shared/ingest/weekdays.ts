/** Every Monday-to-Friday date from `start` to `end` inclusive (ISO dates), oldest first. */
export function weekdaysBetween(start: string, end: string): string[] {
  const out: string[] = [];
  const d = new Date(`${start}T00:00:00Z`);
  for (let iso = start; iso <= end; d.setUTCDate(d.getUTCDate() + 1), iso = d.toISOString().slice(0, 10)) {
    const day = d.getUTCDay();
    if (day !== 0 && day !== 6) out.push(iso);
  }
  return out;
}

/** Whether an ISO date falls on Monday to Friday. */
export function isWeekday(isoDate: string): boolean {
  const day = new Date(`${isoDate}T00:00:00Z`).getUTCDay();
  return day !== 0 && day !== 6;
}
