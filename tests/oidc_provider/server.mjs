// A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider (the
// certified Node implementation), configured with one confidential client and a few accounts
// whose `groups` claim the console maps to roles.
//
//   node server.mjs <config.json>
//
// config.json: {"port": 8900, "client_id": "...", "client_secret": "...",
//               "redirect_uris": ["http://127.0.0.1:8000/accounts/sso/callback/"],
//               "accounts_file": "accounts.json"}
// accounts.json, read again at every sign-in (so a test can move someone between groups):
//               {"ana": {"email": "...", "groups": ["console-admins"]}}
// It prints "ready <issuer>" once it listens. The sign-in page is oidc-provider's own
// development interaction (any password is accepted for a known account; an unknown one is
// refused), consent is granted without asking (a first-party client).
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = () => JSON.parse(readFileSync(config.accounts_file, "utf8"));

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris || [],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["test-only-cookie-key-" + process.pid] },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          preferred_username: id,
          name: account.name || id,
          email: account.email || `${id}@example.test`,
          email_verified: true,
          groups: account.groups || [],
        };
      },
    };
  },
  // First-party client: grant what it asks for instead of showing a consent page.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
});

const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
