/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native modules and the Docker client stay outside the bundle: they are loaded by Node at run time.
  serverExternalPackages: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "dockerode", "docker-modem", "ssh2", "cpu-features", "bcryptjs"],
  poweredByHeader: false,
  // The build checks the app's own code; tests, e2e and bench are checked by `npm run typecheck`.
  typescript: { tsconfigPath: "tsconfig.build.json" },
  reactStrictMode: true,
  typedRoutes: false,
  // forbidden() from next/navigation: admin pages answer non-admins with app/forbidden.tsx and HTTP status 403.
  experimental: { authInterrupts: true },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
