import { OAuth2Client } from 'google-auth-library';

/** Credentials for an emulator: a fixed token, so a Google client never looks for Google's metadata server. */
export function emulatorAuth(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'emulator', expiry_date: Date.now() + 10 * 365 * 86_400_000 });
  return client;
}
