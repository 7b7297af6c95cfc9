/**
 * @module gateway/reload: a hot reload applied without dropping a connection: backends added, removed,
 * re-weighted or replaced (a changed URL or health settings); other settings need a restart and are reported.
 */
import type { GatewayConfig } from '../config/index.js';
import type { Logger } from '../types.js';
import type { BackendChanges } from './backend-changes.js';
import { diffBackends, type ReloadSummary } from './reload-diff.js';
import type { Topology } from './topology.js';

/** Applies `next` over `current` through `changes`; returns the config now in force and the summary. */
export function applyReload(
  current: () => GatewayConfig,
  next: GatewayConfig,
  changes: BackendChanges,
  topology: Topology,
  logger: Logger,
): { config: GatewayConfig; summary: ReloadSummary } {
  const diff = diffBackends(current(), next);
  for (const id of [...diff.removed, ...diff.replaced]) changes.remove(id);
  for (const b of next.backends) {
    if (diff.added.includes(b.id) || diff.replaced.includes(b.id)) changes.add(b);
  }
  for (const { id, weight } of diff.reweighted) {
    const u = topology.upstream(id);
    if (u !== undefined) changes.setWeight(u, weight);
  }
  // Keep the new order and the new backend settings as the config in force; the global health block is live
  // too (backends added later through the admin API inherit it).
  // Pools keep their settings (a change there is reported as needing a restart) but take the new health block.
  const now = current();
  const pools = now.pools.map((p) => {
    const fresh = next.pools.find((n) => n.name === p.name);
    return fresh === undefined ? p : { ...p, health: fresh.health, backends: fresh.backends };
  });
  const config = { ...now, backends: next.backends, health: next.health, pools };
  if (diff.restartNeeded.length > 0) {
    logger.warn({ fields: diff.restartNeeded }, 'reload: these settings changed and take effect only after a restart');
  }
  const summary = { added: diff.added, removed: diff.removed, replaced: diff.replaced, reweighted: diff.reweighted.map((r) => r.id), restartNeeded: diff.restartNeeded };
  logger.info(summary, 'config reloaded');
  return { config, summary };
}
