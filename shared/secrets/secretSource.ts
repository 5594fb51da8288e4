/** Where vendor API keys come from: Secret Manager in the cloud, environment variables locally. */
export interface SecretSource {
  /** The secret's value, e.g. get('EODHD_API_KEY'); throws a JobError naming the secret (never its value) if it is not set. */
  get(name: string): Promise<string>;
}
