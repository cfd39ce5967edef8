// Coder's audit diff format: one entry per changed field with its old and new value.

export type AuditDiff = Record<string, { old: unknown; new: unknown; secret: boolean }>;

export function auditDiff(before: Record<string, unknown> | null, after: Record<string, unknown>): AuditDiff {
  const diff: AuditDiff = {};
  for (const [field, value] of Object.entries(after)) {
    const old = before ? before[field] : null;
    if (before && old === value) continue;
    diff[field] = { old, new: value, secret: false };
  }
  return diff;
}

/** A secret field's change (a prompt), as Coder records secrets: that it changed, without either value. */
export function secretChange(field: string): AuditDiff {
  return { [field]: { old: '', new: '', secret: true } };
}
