// The checks of the Coder compatibility tier (test/compat/) that fail today, each with why. The
// tier fails when a check not listed here fails, and when a listed one passes: delete its line as
// you close the gap. Names are exactly the check names the test output shows. Today there are none.

/** Checks of compat/coder/sdkcheck (Coder's Go SDK) and the routes it called. */
export const SDK_GAPS: Record<string, string> = {};

/** Checks of the real `coder` CLI and the routes it called. */
export const CLI_GAPS: Record<string, string> = {};
