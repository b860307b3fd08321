// tests/real/app/app.js - a small node-postgres HTTP app in front of the test bed's PgBouncer
// (issue 10).  Several controllers, each with its own pg.Pool; each endpoint runs a few
// `SELECT pg_sleep(s)` statements.  Listens on 127.0.0.1 only.
//
// Configuration (environment; the defaults are pg's own where pg has one):
//   PGPORT             the port of PgBouncer (or PostgreSQL); host 127.0.0.1, user/db postgres
//   APP_PORT           where to listen (0: any free port; the port is printed on stdout as
//                      "listening <port>" once the server accepts)
//   CONTROLLERS        controllers, one pg.Pool each (default 1)
//   POOL_MAX           pg.Pool max (default 10)
//   CONN_TIMEOUT_MS    connectionTimeoutMillis (default 0: none)
//   IDLE_TIMEOUT_MS    idleTimeoutMillis (default 10000)
//   STATEMENTS         statements per endpoint call (default 3)
//   SLEEP_MS           pg_sleep's argument, in ms (default 20)
//   KIND               "query": each statement through pool.query (a checkout per statement,
//                      poolsim's `query` operation with pg-pool); "transaction": pool.connect,
//                      BEGIN, the statements, COMMIT, release (poolsim's `transaction`)
//   DRIVER             "pg" (default): pg.Pool directly; "prisma7": a PrismaClient per
//                      controller through @prisma/adapter-pg (Prisma 7's default: the adapter
//                      makes a pg.Pool from the same options), statements by $executeRawUnsafe
//                      (the adapter's pool.query: a checkout per statement), transactions by a
//                      batch $transaction([...]) (pool.connect, BEGIN, ..., COMMIT)
//
// Routes: GET /e/<i> runs endpoint i on controller i mod CONTROLLERS; GET /random runs it on a
// random controller; GET /stats answers each pool's totalCount, idleCount and waitingCount, the
// process's CPU share since the start and its event loop's delay (p50, p99, max).
// A call answers 200 "ok", or 503 with a JSON body {"kind": K, "message": M}, K being the
// failure kind in poolsim's names (errkind.c): pg_pool_timeout, pg_connection_timeout,
// query_wait_timeout, max_client_conn, query_timeout, server_login_retry, 53300, or "other".
// SIGTERM and SIGINT end the process at once (the load is over; nothing is worth draining).
'use strict';
const http = require('http');
const { monitorEventLoopDelay } = require('perf_hooks');
const pg = require('pg');

function envInt(name, dflt) {
    const v = process.env[name];
    if (v === undefined || v === '') {
        return dflt;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
        throw new Error(`${name}=${v}: not a number >= 0`);
    }
    return n;
}

const cfg = {
    pgPort: envInt('PGPORT', 6432),
    appPort: envInt('APP_PORT', 0),
    controllers: envInt('CONTROLLERS', 1),
    max: envInt('POOL_MAX', 10),
    connTimeoutMs: envInt('CONN_TIMEOUT_MS', 0),
    idleTimeoutMs: envInt('IDLE_TIMEOUT_MS', 10000),
    statements: envInt('STATEMENTS', 3),
    sleepMs: envInt('SLEEP_MS', 20),
    kind: process.env.KIND || 'query',
    driver: process.env.DRIVER || 'pg',
};
if (cfg.driver !== 'pg' && cfg.driver !== 'prisma7') {
    throw new Error(`DRIVER=${cfg.driver}: pg or prisma7`);
}
if (cfg.kind !== 'query' && cfg.kind !== 'transaction') {
    throw new Error(`KIND=${cfg.kind}: query or transaction`);
}
const sql = `SELECT pg_sleep(${(cfg.sleepMs / 1000).toFixed(6)})`;

// One pool per controller.  An error on an idle client (the server closed it) must not crash
// the process: pg-pool removes the client itself; we only count it.
const poolOptions = {
    host: '127.0.0.1',
    port: cfg.pgPort,
    user: 'postgres',
    database: 'postgres',
    max: cfg.max,
    connectionTimeoutMillis: cfg.connTimeoutMs,
    idleTimeoutMillis: cfg.idleTimeoutMs,
};
const pools = [];
const idleErrors = { n: 0 };
for (let i = 0; i < cfg.controllers; i++) {
    if (cfg.driver === 'prisma7') {
        const { PrismaClient } = require('@prisma/client');
        const { PrismaPg } = require('@prisma/adapter-pg');
        const adapter = new PrismaPg(poolOptions, {
            onPoolError: () => {
                idleErrors.n++;
            },
        });
        pools.push({ prisma: new PrismaClient({ adapter }) });
        continue;
    }
    const pool = new pg.Pool(poolOptions);
    pool.on('error', () => {
        idleErrors.n++;
    });
    pools.push(pool);
}

// The failure kind of an error, in poolsim's names.
function classify(err) {
    const m = String((err && err.message) || err);
    if (m.includes('timeout exceeded when trying to connect')) {
        return 'pg_pool_timeout';
    }
    if (m.includes('Connection terminated due to connection timeout')) {
        return 'pg_connection_timeout';
    }
    if (m.includes('query_wait_timeout')) {
        return 'query_wait_timeout';
    }
    if (m.includes('no more connections allowed')) {
        return 'max_client_conn';
    }
    if (m.includes('query_timeout') || m.includes('query timeout')) {
        return 'query_timeout';
    }
    if (m.includes('server_login_retry')) {
        return 'server_login_retry';
    }
    if (err && err.code === '53300') {
        return '53300';
    }
    return 'other';
}

async function runPrisma(c) {
    if (cfg.kind === 'query') {
        for (let k = 0; k < cfg.statements; k++) {
            await c.prisma.$executeRawUnsafe(sql);
        }
        return;
    }
    const batch = [];
    for (let k = 0; k < cfg.statements; k++) {
        batch.push(c.prisma.$executeRawUnsafe(sql));
    }
    await c.prisma.$transaction(batch);
}

async function runQuery(pool) {
    for (let k = 0; k < cfg.statements; k++) {
        await pool.query(sql);
    }
}

async function runTransaction(pool) {
    const client = await pool.connect();
    try {
        await client.query('BEGIN');
        for (let k = 0; k < cfg.statements; k++) {
            await client.query(sql);
        }
        await client.query('COMMIT');
    } catch (err) {
        client.release(err);
        throw err;
    }
    client.release();
}

// x-app-ms: the time from the request's arrival to its answer, so that load.js can tell the
// HTTP path's own time (its latency minus this) from the app's.
function answer(res, code, body) {
    const ms = res.t0 === undefined ? 0 : Number(process.hrtime.bigint() - res.t0) / 1e6;
    res.writeHead(code, {
        'content-type': code === 200 ? 'text/plain' : 'application/json',
        'x-app-ms': ms.toFixed(3),
    });
    res.end(body);
}

async function endpoint(i, res) {
    const pool = pools[i % pools.length];
    try {
        if (cfg.driver === 'prisma7') {
            await runPrisma(pool);
        } else {
            await (cfg.kind === 'query' ? runQuery(pool) : runTransaction(pool));
        }
        answer(res, 200, 'ok\n');
    } catch (err) {
        const kind = classify(err);
        answer(res, 503, JSON.stringify({ kind, message: String(err.message || err) }) + '\n');
    }
}

// The event loop's delay (how late a timer runs: the app's CPU queue) and the CPU used, for
// /stats: poolsim models Node's cost as a pure delay, not as a single server.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const started = { cpu: process.cpuUsage(), ns: process.hrtime.bigint() };
// The pg.Pools' queue length and clients, sampled every 10 ms (time averages for /stats).
const sampled = { n: 0, waiting: 0, total: 0 };
setInterval(() => {
    sampled.n++;
    for (const x of pools) {
        sampled.waiting += x.waitingCount || 0;
        sampled.total += x.totalCount || 0;
    }
}, 10).unref();

function stats(res) {
    const cpu = process.cpuUsage(started.cpu);
    const wallUs = Number(process.hrtime.bigint() - started.ns) / 1000;
    const loop = {
        cpu_share: (cpu.user + cpu.system) / wallUs,
        loop_delay_p50_ms: loopDelay.percentile(50) / 1e6,
        loop_delay_p99_ms: loopDelay.percentile(99) / 1e6,
        loop_delay_max_ms: loopDelay.max / 1e6,
        pool_waiting_mean: sampled.n ? sampled.waiting / sampled.n : 0,
        pool_clients_mean: sampled.n ? sampled.total / sampled.n : 0,
    };
    const p = pools.map((x) => ({ total: x.totalCount, idle: x.idleCount, waiting: x.waitingCount }));
    // (undefined with prisma7: the adapter's pool is private)
    answer(res, 200, JSON.stringify({ loop, pools: p, idleErrors: idleErrors.n }) + '\n');
}

const server = http.createServer((req, res) => {
    res.t0 = process.hrtime.bigint();
    const m = /^\/e\/(\d+)$/.exec(req.url);
    if (m) {
        endpoint(Number(m[1]), res);
    } else if (req.url === '/random') {
        endpoint(Math.floor(Math.random() * pools.length), res);
    } else if (req.url === '/stats') {
        stats(res);
    } else {
        answer(res, 404, JSON.stringify({ kind: 'not_found', message: req.url }) + '\n');
    }
});
// A response may take minutes (a session-mode collapse): no server-side timeout on it.
server.requestTimeout = 0;
server.keepAliveTimeout = 60000;
server.listen(cfg.appPort, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => process.exit(0));
}
