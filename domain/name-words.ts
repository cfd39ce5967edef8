// Word lists for the last-resort task name (spec §6.1 strategy 3). Lower-case ASCII letters
// only, so any pairing is a valid name stem; test/domain/task-name.test.ts enforces that.

export const NAME_ADJECTIVES: readonly string[] = [
  'bold', 'brave', 'bright', 'calm', 'cheerful', 'clever', 'curious', 'daring',
  'eager', 'earnest', 'fair', 'fond', 'friendly', 'gallant', 'gentle', 'happy',
  'hardy', 'humble', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'mellow',
  'merry', 'nimble', 'noble', 'patient', 'plucky', 'proud', 'quick', 'quiet',
  'serene', 'sharp', 'steady', 'sunny', 'swift', 'tidy', 'witty', 'zesty',
];

// People who shaped computing and science.
export const NAME_SURNAMES: readonly string[] = [
  'babbage', 'backus', 'bohr', 'cerf', 'curie', 'darwin', 'dijkstra', 'euler',
  'faraday', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goodall', 'hamilton',
  'hawking', 'hoare', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamport',
  'liskov', 'lovelace', 'maxwell', 'mccarthy', 'meitner', 'newton', 'noether', 'pasteur',
  'planck', 'ramanujan', 'ritchie', 'sagan', 'shannon', 'tesla', 'thompson', 'turing',
];
