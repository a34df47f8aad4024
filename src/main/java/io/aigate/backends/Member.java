package io.aigate.backends;

/**
 * One backend as a pool sees it for one request: its place ({@code priority}, {@code weight}), the breaker of the
 * deployment the request is for, and the names other aigate instances know the two by ({@code fleetId}, the backend's
 * URL, since configurations may name one resource differently; {@code deployment}, the backend's own name for it).
 */
public record Member(
        String backend, int priority, int weight, CircuitBreaker breaker, String fleetId, String deployment) {}
