// The OpenID Connect provider the test suite and the sign-in benchmark start: oidc-provider
// (panva's OpenID-certified implementation) with gshare as a confidential client.
//
//   node provider.js SETTINGS.json
//
// SETTINGS (written by tests/fixtures/oidc.py): issuer, port, client {client_id,
// client_secret, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri,
// backchannel_logout_session_required}, jwks (private signing keys),
// accounts {id: claims}, clockOffsetSeconds (this provider's clock runs that far from the
// machine's: a provider with a skewed clock), idTokenTtlSeconds.
//
// The login and consent pages are oidc-provider's development interactions: any password is
// taken for a known account (the accounts are the test's); an unknown login gets no account.
// PKCE (S256) is required. Prints "listening <issuer>" once it accepts connections.
import { readFileSync } from 'node:fs';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));

if (settings.clockOffsetSeconds) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + settings.clockOffsetSeconds * 1000;
}

const { default: Provider } = await import('oidc-provider');

const claimsOf = (id) => settings.accounts[id];

const provider = new Provider(settings.issuer, {
  clients: [{
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...settings.client,
  }],
  jwks: settings.jwks,
  // the provider refuses to call special-use addresses (SSRF protection); in the suite gshare's
  // back-channel logout listener is on 127.0.0.1, so its calls go out without that check
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return fetch(url, rest);
  },
  cookies: { keys: [settings.cookieKey] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // oidc-provider 9 has no front-channel logout (dropped with the other logout drafts); a
    // client with a back-channel logout URI and backchannel_logout_session_required gets the
    // `sid` claim in its ID tokens, as Keycloak's and Lemonldap::NG's clients do by default.
    backchannelLogout: { enabled: true },
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'department', 'groups'],
    email: ['email'],
  },
  // scope-given claims go into the ID token as well as userinfo (as Keycloak does)
  conformIdTokenClaims: false,
  ttl: { IdToken: settings.idTokenTtlSeconds || 3600 },
  async findAccount(ctx, id) {
    const claims = claimsOf(id);
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.proxy = false;
// what became of each back-channel logout call, in the provider's log
provider.on('backchannel.success', (ctx, client) => console.error(`backchannel.success ${client.clientId}`));
provider.on('backchannel.error', (ctx, err, client) => console.error(`backchannel.error ${client.clientId}: ${err.message} ${err.cause?.message ?? ""}`));

const server = provider.listen(settings.port, '127.0.0.1', () => {
  console.log(`listening ${settings.issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
