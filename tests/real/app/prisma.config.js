// tests/real/app/prisma.config.js - Prisma 7's configuration (for `prisma generate` only; the app
// passes its own adapter).  The URL is never used by generate.
module.exports = {
    schema: 'prisma/schema.prisma',
    datasource: { url: 'postgresql://postgres@127.0.0.1:5432/postgres' },
};
