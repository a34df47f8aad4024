package io.aigate.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects every log line the JVM writes while open, to prove what never appears in them: the root logger's and the
 * audit trail's (which has a handler of its own and does not pass its lines up).
 */
public final class LogCapture extends Handler implements AutoCloseable {

    private static final String AUDIT = "aigate.audit";

    private final List<String> lines = new CopyOnWriteArrayList<>();

    public static LogCapture start() {
        LogCapture capture = new LogCapture();
        Logger.getLogger("").addHandler(capture);
        Logger.getLogger(AUDIT).addHandler(capture);
        return capture;
    }

    @Override
    public void publish(LogRecord record) {
        String message = record.getMessage();
        Object[] params = record.getParameters();
        if (params != null) {
            StringBuilder all = new StringBuilder(String.valueOf(message));
            for (Object p : params) {
                all.append(' ').append(p);
            }
            message = all.toString();
        }
        if (record.getThrown() != null) {
            message += " " + record.getThrown();
        }
        lines.add(record.getLoggerName() + " " + message);
    }

    public List<String> lines() {
        return lines;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
        Logger.getLogger(AUDIT).removeHandler(this);
    }

    /** The audit line of the request with this id, or null while none was written. */
    public io.vertx.core.json.JsonObject auditLine(String requestId) {
        for (String line : lines()) {
            if (line.startsWith("aigate.audit {") && line.contains("\"request_id\":\"" + requestId + "\"")) {
                return new io.vertx.core.json.JsonObject(line.substring("aigate.audit ".length()));
            }
        }
        return null;
    }
}
