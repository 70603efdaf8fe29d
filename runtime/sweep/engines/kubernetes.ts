/**
 * The Kubernetes engine: an Indexed Job (completionMode: Indexed) with one completion per task;
 * each pod runs `punet sweep-task SWEEP $JOB_COMPLETION_INDEX`. The sweep folder lives on a
 * shared volume (a PersistentVolumeClaim) mounted at the same path as here, so the absolute
 * paths in the manifest stay valid inside the pods; the image must contain punet and the spec
 * files (or have them on the volume too). The Job is written as JSON for `kubectl apply -f`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../cli/errors.js';
import type { SweepManifest } from '../manifest.js';

export interface KubernetesOptions {
  image: string;
  /** PersistentVolumeClaim holding the sweep folder. */
  volumeClaim: string;
  namespace?: string;
  maxParallel?: number;
  cpus?: number;
  gpus?: number;
  /** Retries of the whole Job before it is marked failed (tasks resume, so retries are cheap). */
  backoffLimit?: number;
}

/** RFC 1123 label: what Kubernetes accepts as a Job name. */
function jobName(dir: string): string {
  const base = dir.split('/').filter(Boolean).at(-1) ?? 'sweep';
  const name = `punet-${base}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 52);
  return name.replace(/-+$/, '') || 'punet-sweep';
}

/** The options a Job cannot do without (checked before the sweep folder is written). */
export function checkKubernetesOptions(o: Partial<KubernetesOptions>): void {
  if (!o.image) throw new UserError('--engine kubernetes needs --image IMAGE (a container image with punet installed)', 2);
  if (!o.volumeClaim) throw new UserError('--engine kubernetes needs --volume-claim NAME (a PersistentVolumeClaim that holds the sweep folder)', 2);
}

export function kubernetesJob(dir: string, m: SweepManifest, o: KubernetesOptions): Record<string, unknown> {
  checkKubernetesOptions(o);
  const n = m.tasks.length;
  const resources: Record<string, string> = { cpu: String(o.cpus ?? 1) };
  if (o.gpus) resources['nvidia.com/gpu'] = String(o.gpus);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(dir), ...(o.namespace ? { namespace: o.namespace } : {}), labels: { app: 'punet-sweep' } },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: Math.min(o.maxParallel ?? n, n),
      backoffLimit: o.backoffLimit ?? n,
      template: {
        metadata: { labels: { app: 'punet-sweep' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'task',
              image: o.image,
              command: ['punet'],
              // Kubernetes expands $(VAR) from the container's environment; JOB_COMPLETION_INDEX is set for Indexed Jobs.
              args: ['sweep-task', dir, '$(JOB_COMPLETION_INDEX)'],
              env: [{ name: 'PUNET_WASM_THREADS', value: String(o.cpus ?? 1) }],
              resources: { requests: resources, limits: resources },
              volumeMounts: [{ name: 'sweep', mountPath: dir }],
            },
          ],
          volumes: [{ name: 'sweep', persistentVolumeClaim: { claimName: o.volumeClaim } }],
        },
      },
    },
  };
}

/** Writes the Job manifest into the sweep folder and returns its path. */
export function writeKubernetesJob(dir: string, m: SweepManifest, o: KubernetesOptions): string {
  const file = join(dir, 'kubernetes-job.json');
  writeFileSync(file, JSON.stringify(kubernetesJob(dir, m, o), null, 2) + '\n');
  return file;
}
