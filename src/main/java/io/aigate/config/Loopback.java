package io.aigate.config;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * The one answer to "does this stay on the machine": a host is loopback when it is the name {@code localhost} or an IP
 * literal in 127.0.0.0/8 or ::1 (also as an IPv4-mapped IPv6 address). Literals only: resolving a name could itself
 * reach the network, and a name such as {@code 127.evil.example} or {@code localhost.evil.example} is whatever its
 * DNS says.
 */
public final class Loopback {

    private Loopback() {}

    /** @param host a URL's host as {@link URI#getHost()} gives it (IPv6 in brackets or bare), or null */
    public static boolean host(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.equals("localhost.")) {
            return true;
        }
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.indexOf('%') >= 0) {
            return false; // a zone id: no loopback address needs one
        }
        byte[] address = NetUtil.createByteArrayFromIpAddressString(h);
        if (address == null) {
            return false;
        }
        try {
            // the bytes alone, no lookup; an IPv4-mapped address comes back as the IPv4 one it maps
            return InetAddress.getByAddress(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Whether a URL's host is loopback; false for anything that is not a URL with a host. */
    public static boolean url(String url) {
        try {
            return url != null && host(URI.create(url.trim()).getHost());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** A URL's host alone (never its user or password), for a start-up sentence; "its host" when there is none. */
    public static String hostOf(String url) {
        try {
            String host = URI.create(url.trim()).getHost();
            return host == null ? "its host" : host;
        } catch (IllegalArgumentException e) {
            return "its host";
        }
    }

    /** Whether a URL carries a user or password ({@code redis://user:secret@host}); never what they are. */
    public static boolean hasUserInfo(String url) {
        try {
            return URI.create(url.trim()).getRawUserInfo() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
