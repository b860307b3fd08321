// tests/real/app/load.js - a closed-loop HTTP load generator for app.js (issue 10).
//
//   node load.js --url http://127.0.0.1:PORT --connections N --warmup-s W --duration-s D
//                [--paths e/0:1,e/1:1,...] [--records FILE]
//
// N workers, each with its own keep-alive connection (an http.Agent with one socket), send a
// request, wait for its answer, and send the next at once (no think time).  Each request goes to
// a path drawn by weight from --paths (default "random": the app picks the controller).  Every
// answer is classified: 200 is ok; otherwise the kind in the app's JSON body (503), "http_<code>"
// without one, or "socket" when the connection failed.
//
// Prints on stdout a one-row CSV in poolsim's metric names (DESIGN.md §5): a request counts when
// it ends inside the window [W, W + D) seconds after the start; throughput_rps is successful
// requests per second; quantiles are exact (sorted); in_flight_end counts requests unanswered
// at the end.  The process then exits without waiting for them (a collapsed app may never
// answer): its sockets die with it.
//
// Why our own script and not autocannon: we need each request's failure kind from its body, the
// same window rule as poolsim, and requests that never end counted as in flight; autocannon
// counts non-2xx answers but does not classify them, and it would be one more dependency.
'use strict';
const http = require('http');
const fs = require('fs');

const KINDS = ['pg_pool_timeout', 'pg_connection_timeout', 'query_wait_timeout',
    'max_client_conn', 'query_timeout', 'server_login_retry', '53300', 'P2024', 'P1001',
    'P2028', 'other'];

function parseArgs(argv) {
    const o = { url: '', connections: 1, warmupS: 0, durationS: 10, paths: 'random', records: '' };
    for (let i = 2; i < argv.length; i += 2) {
        const k = argv[i];
        const v = argv[i + 1];
        if (v === undefined) {
            throw new Error(`${k} needs a value`);
        }
        if (k === '--url') {
            o.url = v;
        } else if (k === '--connections') {
            o.connections = Number(v);
        } else if (k === '--warmup-s') {
            o.warmupS = Number(v);
        } else if (k === '--duration-s') {
            o.durationS = Number(v);
        } else if (k === '--paths') {
            o.paths = v;
        } else if (k === '--records') {
            o.records = v;
        } else {
            throw new Error(`unknown option ${k}`);
        }
    }
    if (!o.url || !(o.connections >= 1) || !(o.durationS > 0) || !(o.warmupS >= 0)) {
        throw new Error('need --url, --connections >= 1, --duration-s > 0');
    }
    return o;
}

// "e/0:1,e/1:2" -> cumulative weights; a path without ":w" weighs 1.
function parsePaths(s) {
    const out = [];
    let total = 0;
    for (const part of s.split(',')) {
        const [p, w] = part.split(':');
        total += w === undefined ? 1 : Number(w);
        out.push({ path: '/' + p.replace(/^\//, ''), cum: total });
    }
    return out.map((x) => ({ path: x.path, cum: x.cum / total }));
}

function pick(paths) {
    const u = Math.random();
    for (const p of paths) {
        if (u < p.cum) {
            return p.path;
        }
    }
    return paths[paths.length - 1].path;
}

function once(agent, url, cb) {
    const req = http.get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
            body += d;
        });
        const appMs = Number(res.headers['x-app-ms']);
        res.on('end', () => {
            if (res.statusCode === 200) {
                return cb('ok', appMs);
            }
            let kind = `http_${res.statusCode}`;
            try {
                kind = JSON.parse(body).kind || kind;
            } catch (e) {
                // not the app's JSON: keep http_<code>
            }
            return cb(kind, appMs);
        });
        res.on('error', () => cb('socket'));
    });
    req.on('error', () => cb('socket'));
}

function quantile(sorted, q) {
    if (sorted.length === 0) {
        return '';
    }
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i];
}

function fmt(x) {
    return x === '' ? '' : String(Number(x.toPrecision(9)));
}

function summary(o, recs, inFlight) {
    const all = recs.map((r) => r.ms).sort((a, b) => a - b);
    const ok = recs.filter((r) => r.kind === 'ok').map((r) => r.ms).sort((a, b) => a - b);
    const mean = (a) => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : '');
    const by = {};
    for (const r of recs) {
        by[r.kind] = (by[r.kind] || 0) + 1;
    }
    const kinds = KINDS.slice();
    for (const k of Object.keys(by)) {
        if (k !== 'ok' && !kinds.includes(k)) {
            kinds.push(k);
        }
    }
    const cols = {
        requests: recs.length,
        ok: ok.length,
        errors: recs.length - ok.length,
        error_rate: recs.length ? (recs.length - ok.length) / recs.length : '',
        throughput_rps: ok.length / o.durationS,
        in_flight_end: inFlight,
        latency_mean_ms: mean(all),
        latency_p50_ms: quantile(all, 0.5),
        latency_p90_ms: quantile(all, 0.9),
        latency_p95_ms: quantile(all, 0.95),
        latency_p99_ms: quantile(all, 0.99),
        latency_max_ms: all.length ? all[all.length - 1] : '',
        ok_latency_mean_ms: mean(ok),
        ok_latency_p50_ms: quantile(ok, 0.5),
        ok_latency_p95_ms: quantile(ok, 0.95),
        ok_latency_p99_ms: quantile(ok, 0.99),
        // Not poolsim's: the HTTP path's own time per call (load.js's latency minus x-app-ms).
        http_path_mean_ms: mean(recs.map((r) => r.http).filter(Number.isFinite)),
    };
    for (const k of kinds) {
        cols[`errors_${k}`] = by[k] || 0;
    }
    const names = Object.keys(cols);
    return names.join(',') + '\n' + names.map((k) => fmt(cols[k])).join(',') + '\n';
}

function main() {
    const o = parseArgs(process.argv);
    const paths = parsePaths(o.paths);
    const t0 = process.hrtime.bigint();
    const now = () => Number(process.hrtime.bigint() - t0) / 1e6; // ms since the start
    const from = o.warmupS * 1000;
    const to = from + o.durationS * 1000;
    const recs = [];
    const raw = [];
    let inFlight = 0;
    let stopped = false;

    const worker = (agent) => {
        if (stopped) {
            return;
        }
        const start = now();
        inFlight++;
        once(agent, o.url + pick(paths), (kind, appMs) => {
            const end = now();
            inFlight--;
            if (stopped) {
                return;
            }
            if (end >= from && end < to) {
                recs.push({ ms: end - start, kind, http: Number.isFinite(appMs) ? end - start - appMs : NaN });
            }
            if (o.records) {
                raw.push(`${(start / 1000).toFixed(6)},${(end - start).toFixed(3)},${kind}`);
            }
            setImmediate(() => worker(agent));
        });
    };
    for (let i = 0; i < o.connections; i++) {
        worker(new http.Agent({ keepAlive: true, maxSockets: 1 }));
    }
    setTimeout(() => {
        stopped = true;
        process.stdout.write(summary(o, recs, inFlight));
        if (o.records) {
            fs.writeFileSync(o.records, 'start_s,latency_ms,kind\n' + raw.join('\n') + '\n');
        }
        process.exit(0);
    }, to);
}

main();
