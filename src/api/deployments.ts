/** Deployments (`db.deploy`): rolling restarts and live ring-format switches. */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { DynamoDBError } from '../model/errors.js';
import type { ReplicaStatus } from '../replication/types.js';
import { sendVersionOf, setSendVersion, type FabricBuffers } from '../transport/fabric.js';
import { type FormatVersion } from '../transport/protocol.js';
import { ControlPlane } from './control-plane.js';
import { checkFormatVersion } from './options.js';

/** What `db.deploy.restartNode` measured (ms). */
export interface NodeRestart {
  node: number;
  /** False when the node still led a group or owed an answer when HAND_OVER_TIMEOUT_MS ran out. */
  handedOver: boolean;
  /** Until it led nothing and had answered every write it accepted. */
  handOverMs: number;
  /** From then until its thread ended (the main router's last answers, checkpoint, close). */
  stopMs: number;
  /** Until its store was recovered and its thread ran. */
  startMs: number;
  /** Until it held every group's log up to where the group had committed at its start. */
  catchUpMs: number;
  totalMs: number;
}


/** Longest a planned stop waits for a node to hand its leaderships over (ms). */
const HAND_OVER_TIMEOUT_MS = 5000;
/** Longest `deploy.restartNode` waits for the restarted node to catch up (ms). */
const CATCH_UP_TIMEOUT_MS = 30_000;

/** `db.deploy` of a cluster. */
export function deploymentsOf(cp: ControlPlane, fabric: FabricBuffers) {
  /**
   * Deployments: restart nodes one at a time under load without failing a request, and
   * switch the message format version nodes and routers send (read-write deployment: every
   * build reads versions 1 and 2; see transport/protocol.ts).
   */
  const deploy = {
    /**
     * Restarts one node the way a deployment does: its leaderships are handed over to
     * up-to-date followers (requests follow the new leaders), it stops once it leads
     * nothing and has answered every write it accepted (bounded: HAND_OVER_TIMEOUT_MS,
     * then it stops anyway and `handedOver` is false), starts from its own files, and the
     * call resolves once it has caught up with every group it hosts.
     */
    restartNode: async (node: number): Promise<NodeRestart> => {
      cp.checkOpen();
      cp.checkNode(node);
      const started = performance.now();
      const { handedOver, handOverMs } = cp.supervisor.isAlive(node)
        ? await stopPlanned(cp, node)
        : { handedOver: true, handOverMs: 0 };
      const stoppedAt = performance.now();
      await cp.supervisor.start(node);
      const startedAt = performance.now();
      await waitCaughtUp(cp, node);
      const done = performance.now();
      return {
        node, handedOver, handOverMs, stopMs: stoppedAt - started - handOverMs,
        startMs: startedAt - stoppedAt, catchUpMs: done - startedAt, totalMs: done - started,
      };
    },
    /**
     * Sets the ring-message format version (1 or 2) that nodes and routers send, live: each
     * switches at its next batch. Every build reads both, so any mix works (the read-write
     * deployment); upgrade by switching senders to 2, roll back by switching them to 1.
     * Default: every node and router. Routers are numbered as ports: 0 is the main thread's.
     */
    setFormatVersion: (version: FormatVersion, which: { nodes?: number[]; routers?: number[] } = {}): void => {
      cp.checkOpen();
      checkFormatVersion('setFormatVersion: version', version);
      const nodes = which.nodes ?? Array.from({ length: cp.options.nodes }, (_, i) => i);
      const routers = which.routers ?? Array.from({ length: 1 + cp.options.routers }, (_, i) => i);
      for (const node of nodes) cp.checkNode(node);
      for (const router of routers) {
        if (!Number.isInteger(router) || router < 0 || router > cp.options.routers) {
          throw new RangeError(`setFormatVersion: routers are 0 (the main thread's) to ${cp.options.routers} (got ${router})`);
        }
      }
      for (const node of nodes) setSendVersion(fabric, node, version);
      for (const router of routers) setSendVersion(fabric, cp.options.nodes + router, version);
    },
    /** The format version each node and router sends now. */
    formatVersions: (): { nodes: FormatVersion[]; routers: FormatVersion[] } => ({
      nodes: Array.from({ length: cp.options.nodes }, (_, node) => sendVersionOf(fabric, node)),
      routers: Array.from({ length: 1 + cp.options.routers }, (_, router) => sendVersionOf(fabric, cp.options.nodes + router)),
    }),
    /** `restartNode` for every node, in order, each after the previous one caught up. */
    rollingRestart: async (): Promise<NodeRestart[]> => {
      const restarts: NodeRestart[] = [];
      for (let node = 0; node < cp.options.nodes; node++) restarts.push(await deploy.restartNode(node));
      return restarts;
    },
  };
  return deploy;
}

/** A planned stop: routers send the node nothing new, the node hands its leaderships
 *  over, the answers to what the main router had sent there arrive, then it stops (and
 *  answers what other routers' requests reached it in a last round). */
export async function stopPlanned(cp: ControlPlane, node: number): Promise<{ handedOver: boolean; handOverMs: number }> {
  const started = performance.now();
  const handedOver = await cp.supervisor.handOver(node, HAND_OVER_TIMEOUT_MS);
  const handOverMs = performance.now() - started;
  const deadline = performance.now() + HAND_OVER_TIMEOUT_MS;
  while (cp.router.inFlightTo(node) > 0 && performance.now() < deadline) await sleep(2);
  await cp.supervisor.stop(node);
  return { handedOver, handOverMs };
}

/** Resolves once every group with a replica on `node` has a serving leader and that
 *  replica holds the log up to where the group had committed when the wait began. */
async function waitCaughtUp(cp: ControlPlane, node: number): Promise<void> {
  const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
  const hosted = cp.metadata.tables().filter((meta) => meta.status === 'ACTIVE')
    .flatMap((meta) => meta.partitions.filter((p) => p.replicas.includes(node)));
  await Promise.all(hosted.map(async (partition) => {
    let leader: number | undefined;
    while (leader === undefined) {
      await cp.waitServing(partition); // answered by the leader: the router now knows it
      leader = cp.router.leaderOf(partition.group);
    }
    const target = ((await cp.control(leader, partition.group, { t: 'status' })) as ReplicaStatus).commit;
    for (;;) {
      const own = (await cp.control(node, partition.group, { t: 'status' })) as ReplicaStatus;
      if (own.lastIndex >= target && own.applied >= target) return;
      if (performance.now() > deadline) {
        throw new DynamoDBError('ServiceUnavailable', `node ${node} did not catch up with group ${partition.group} within ${CATCH_UP_TIMEOUT_MS} ms (it applied ${own.applied} of ${target} committed); retry.`);
      }
      await sleep(10);
    }
  }));
}
