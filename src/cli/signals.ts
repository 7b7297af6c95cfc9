/**
 * @module cli/signals: SIGTERM/SIGINT start a graceful shutdown and exit 0 when it completes; a second
 * signal exits at once with 1 (the operator insisted).
 */
export function onShutdownSignals(shutdown: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`keyway: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`keyway: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
