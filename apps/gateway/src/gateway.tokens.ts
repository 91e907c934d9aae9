/** Injection token of the gateway's ChannelKeyring (channel-keys.ts). */
export const CHANNEL_KEYRING = Symbol('CHANNEL_KEYRING');
