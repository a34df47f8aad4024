package io.aigate.config;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;

/** The one reading of an address range ({@code 127.0.0.0/8}, {@code ::1/128}): literals only, never a DNS name. */
public final class Cidr {

    private Cidr() {}

    /** @return the range, or null when the text is not an IP literal with a prefix length that fits it */
    public static IpSubnetFilterRule parse(String text) {
        String t = text == null ? "" : text.trim();
        int slash = t.indexOf('/');
        if (slash <= 0 || slash == t.length() - 1 || t.length() - slash > 4) {
            return null;
        }
        String address = t.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            return null;
        }
        int prefix;
        try {
            prefix = Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        if (prefix < 0 || prefix > bytes.length * 8) {
            return null;
        }
        return new IpSubnetFilterRule(address, prefix, IpFilterRuleType.ACCEPT);
    }

    /** Whether an address (an IP literal, as a socket reports it) lies in one of the ranges. */
    public static boolean contains(Iterable<IpSubnetFilterRule> ranges, String address) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            return false;
        }
        InetSocketAddress socket;
        try {
            socket = new InetSocketAddress(java.net.InetAddress.getByAddress(bytes), 0);
        } catch (java.net.UnknownHostException e) {
            return false;
        }
        for (IpSubnetFilterRule range : ranges) {
            if (range.matches(socket)) {
                return true;
            }
        }
        return false;
    }
}
