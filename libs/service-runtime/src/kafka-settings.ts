import type { KafkaSettings } from '@clearline/messaging';
import type { ServiceConfig } from './config.js';

export function kafkaSettingsOf(config: ServiceConfig): KafkaSettings {
  return { brokers: config.kafkaBrokers, clientId: `clearline-${config.service}`, ...(config.kafkaNamespace === undefined ? {} : { namespace: config.kafkaNamespace }) };
}
