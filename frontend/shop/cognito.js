import { config, ShopError } from "./state.js";

// Sign-in: the Cognito API (Amazon Cognito, or cognito-local when run on this machine), called from the page.

/** What Cognito's errors mean to a shopper. */
const SIGN_IN_ERRORS = {
  NotAuthorizedException: "Wrong e-mail or password.",
  UserNotFoundException: "Wrong e-mail or password.",
  UsernameExistsException: "There is already an account with this e-mail. Sign in instead.",
  InvalidPasswordException: "Choose a longer password (8 characters or more).",
  CodeMismatchException: "That code is not right. Check the e-mail and try again.",
  ExpiredCodeException: "That code has expired. Create the account again to get a new one.",
  TooManyRequestsException: "Too many attempts. Wait a moment and try again.",
  LimitExceededException: "Too many attempts. Wait a moment and try again.",
};

export async function cognito(action, body) {
  const endpoint = config.signIn.endpoint;
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ShopError("Cannot reach the sign-in service. Is the shop running?");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type ?? "")
      .split("#")
      .pop();
    throw new ShopError(
      SIGN_IN_ERRORS[type] ?? data.message ?? `Sign-in failed (error ${response.status}).`,
      response.status,
    );
  }
  return data;
}

/** The claims of a token we were just given (the API checks its signature; the page only reads it). */
function claimsOf(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
}

export function sessionFrom(email, result, refreshToken) {
  const claims = claimsOf(result.AccessToken);
  return {
    userId: claims.sub,
    email,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken ?? refreshToken,
    // The token's own expiry (ExpiresIn is not in every answer).
    expiresAt: claims.exp * 1000,
  };
}
