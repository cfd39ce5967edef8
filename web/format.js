// Small presentation helpers shared by the views.

const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "3 minutes ago", "just now". */
export function age(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

export function fullTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

export const STATUS_LABELS = {
  pending: 'Pending',
  initializing: 'Starting',
  active: 'Active',
  paused: 'Paused',
  error: 'Error',
  unknown: 'Changing',
};

export const STATE_LABELS = { working: 'Working', idle: 'Idle', complete: 'Complete', failed: 'Failed', failure: 'Failed' };

export function taskTitle(task) {
  return task.display_name || task.name;
}

export function templateLabel(task) {
  return task.template_display_name || task.template_name || '—';
}
