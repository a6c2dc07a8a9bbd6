import { cognito } from "./cognito.js";
import { notify } from "./messages.js";
import { signIn } from "./session.js";
import { config, shop, ShopError } from "./state.js";
import { showConfirm, ui } from "./ui.js";

// The sign-in card's buttons, and copying the token for the API docs.

function readCredentials() {
  const email = ui.email.value.trim();
  const password = ui.password.value;
  if (!email || !email.includes("@")) throw new ShopError("Enter your e-mail address.");
  if (password.length < 8) throw new ShopError("Enter your password (8 characters or more).");
  return { email, password };
}

export async function signInClicked() {
  const { email, password } = readCredentials();
  try {
    await signIn(email, password);
    ui.password.value = "";
  } catch (error) {
    if (error instanceof ShopError && /confirm/i.test(error.message)) showConfirm(email);
    throw error;
  }
}

export async function signUpClicked() {
  const { email, password } = readCredentials();
  const result = await cognito("SignUp", {
    ClientId: config.signIn.clientId,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
  if (result.UserConfirmed) return signIn(email, password);
  showConfirm(email);
  notify(`We sent a confirmation code to ${email}.`);
}

export async function confirmClicked() {
  const email = ui.confirmEmail.textContent;
  const code = ui.confirmCode.value.trim();
  if (!code) throw new ShopError("Enter the confirmation code from the e-mail.");
  await cognito("ConfirmSignUp", { ClientId: config.signIn.clientId, Username: email, ConfirmationCode: code });
  showConfirm(null);
  await signIn(email, ui.password.value);
  ui.password.value = "";
}

export async function copyToken() {
  try {
    await navigator.clipboard.writeText(shop.session.accessToken);
    notify("Access token copied: paste it into the API docs' Authorize button. It expires within the hour.");
  } catch {
    notify("This browser did not allow copying.", "error");
  }
}
