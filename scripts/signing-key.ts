// `npm run signing-key`: a new ES256 key pair for our access tokens, printed as the two values the
// deploy needs (README, "Deploy"): the private JWK (import it into Supabase as a JWT signing key, then
// `npx sst secrets set JWT_PRIVATE_KEY '<it>'`) and the public JWK set (JWT_PUBLIC_KEYS in the deploy's
// environment). The same format as `supabase gen signing-key --algorithm ES256`.
import { generateSigningKey, publicJwkOf } from "@conversation-api/core";

const alg = process.argv.includes("--rs256") ? "RS256" : "ES256";
const jwk = await generateSigningKey(alg);
console.log(`# Private key (secret): import into Supabase, then npx sst secrets set JWT_PRIVATE_KEY '…'\n${JSON.stringify(jwk)}\n`);
console.log(`# Public keys (not secret): JWT_PUBLIC_KEYS in the deploy environment\n${JSON.stringify({ keys: [publicJwkOf(jwk)] })}`);
