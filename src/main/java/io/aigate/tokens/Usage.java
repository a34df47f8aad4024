package io.aigate.tokens;

/**
 * Token usage of one answer, as the backend reported it. {@code -1} where the backend gave no such figure (for
 * example cached or reasoning tokens on older models).
 */
public record Usage(
        long promptTokens, long completionTokens, long totalTokens, long cachedTokens, long reasoningTokens) {}
