import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../../support/topology';

/** docker-compose.yml describes the whole topology (Docker does not run here, so we read it). */

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
  profiles?: string[];
}

const FILE = path.join(REPO, 'docker-compose.yml');

/** PyYAML when present (resolves anchors and merge keys), else a line-based read of top-level service names. */
function loadCompose(): { services: Record<string, Service>; full: boolean } {
  try {
    const json = execFileSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', FILE], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { services: (JSON.parse(json) as { services: Record<string, Service> }).services, full: true };
  } catch (err) {
    const msg = String((err as { stderr?: string }).stderr ?? err);
    if (!/No module named|ENOENT|not found/.test(msg)) throw new Error(`docker-compose.yml is not valid YAML: ${msg}`);
  }
  const services: Record<string, Service> = {};
  let inServices = false;
  for (const line of fs.readFileSync(FILE, 'utf8').split('\n')) {
    if (/^\S/.test(line)) inServices = line.startsWith('services:');
    const m = /^ {2}([a-z0-9][a-z0-9_-]*):/.exec(line);
    if (inServices && m) services[m[1] as string] = {};
  }
  return { services, full: false };
}

const deps = (s: Service | undefined): string[] => (Array.isArray(s?.depends_on) ? s.depends_on : Object.keys(s?.depends_on ?? {}));

describe('docker-compose.yml', () => {
  const { services, full } = loadCompose();

  test('names every service of the topology', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['app1', 'app2', 'app3', 'etcd', 'haproxy', 'memcached', 'minio', 'minio-init', 'nginx', 'pg1', 'pg2', 'pg3'].sort(),
    );
  });

  // The rest needs a real YAML parser (anchors, merge keys): without one they fail, never skip.
  const withYaml = (name: string, fn: () => void) =>
    test(name, () => {
      if (!full) throw new Error('reading docker-compose.yml fully needs python3 with PyYAML (apt-get install python3-yaml)');
      fn();
    });

  withYaml('app servers are identical and reach PostgreSQL through the multi-host URL', () => {
    const apps = ['app1', 'app2', 'app3'].map((n) => services[n] as Service);
    for (const app of apps) {
      expect(app.environment).toEqual(apps[0]?.environment);
      expect(app.environment?.DATABASE_URL).toMatch(/@pg1:5432,pg2:5432,pg3:5432\/wharf\?target_session_attrs=primary$/);
      expect(app.environment?.MEMCACHED_SERVERS).toBe('memcached:11211');
      expect(app.environment?.S3_ENDPOINT).toBe('http://minio:9000');
      expect(app.environment?.TRUST_PROXY).toBe('1');
      expect((app.environment?.SECRET_KEY ?? '').length).toBeGreaterThanOrEqual(32);
      expect(deps(app)).toEqual(expect.arrayContaining(['pg1', 'pg2', 'pg3', 'memcached', 'minio-init']));
    }
  });

  withYaml('nginx runs the repo nginx.conf with its two includes, in front of all three apps', () => {
    const nginx = services.nginx as Service;
    expect(nginx.volumes).toEqual(
      expect.arrayContaining([
        './nginx.conf:/etc/wharf/nginx.conf:ro',
        './deploy/docker/nginx/upstream.conf:/etc/wharf/upstream.conf:ro',
        './deploy/docker/nginx/site.conf:/etc/wharf/site.conf:ro',
      ]),
    );
    expect(deps(nginx).sort()).toEqual(['app1', 'app2', 'app3']);
    const upstream = fs.readFileSync(path.join(REPO, 'deploy/docker/nginx/upstream.conf'), 'utf8');
    for (const app of ['app1', 'app2', 'app3']) expect(upstream).toContain(`server ${app}:3000 max_fails=1 fail_timeout=5s;`);
  });

  withYaml('three Patroni nodes share etcd; HAProxy checks /primary; MinIO gets its bucket', () => {
    for (const n of ['pg1', 'pg2', 'pg3']) {
      expect(services[n]?.environment?.PATRONI_NAME).toBe(n);
      expect(deps(services[n])).toContain('etcd');
    }
    expect(services.haproxy?.profiles).toEqual(['haproxy']);
    expect(fs.readFileSync(path.join(REPO, 'deploy/docker/haproxy.cfg'), 'utf8')).toMatch(/option httpchk GET \/primary/);
    expect(deps(services['minio-init'])).toContain('minio');
    const patroni = fs.readFileSync(path.join(REPO, 'deploy/docker/patroni.yml'), 'utf8');
    expect(patroni).toMatch(/ttl: 10\s+loop_wait: 2\s+retry_timeout: 3/);
  });

  withYaml('every file it builds from or mounts exists', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) expect([name, fs.existsSync(path.join(REPO, s.build.context, s.build.dockerfile))]).toEqual([name, true]);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] as string;
        if (source.startsWith('./')) expect([name, source, fs.existsSync(path.join(REPO, source))]).toEqual([name, source, true]);
      }
    }
  });
});
