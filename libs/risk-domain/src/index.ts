export * from './risk-assessment.js';
