package io.aigate.backends;

/**
 * One backend as a pool sees it: its place ({@code priority}, {@code weight}), its breaker, and the name other aigate
 * instances know it by ({@code fleetId}, its URL: configurations may name the same resource differently).
 */
public record Member(String backend, int priority, int weight, CircuitBreaker breaker, String fleetId) {}
