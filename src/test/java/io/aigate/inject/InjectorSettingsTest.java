package io.aigate.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The sidecar's memory follows the image it runs: what each flavour was measured to hold, unless set explicitly. */
class InjectorSettingsTest {

    @Test
    void theImageTagTellsTheFlavour() {
        assertEquals(
                InjectorSettings.Flavour.NATIVE, InjectorSettings.Flavour.of("ghcr.io/aigate/aigate:0.2.0-native"));
        assertEquals(InjectorSettings.Flavour.JVM, InjectorSettings.Flavour.of("ghcr.io/aigate/aigate:0.2.0"));
        assertEquals(InjectorSettings.Flavour.JVM, InjectorSettings.Flavour.of("registry:5000/native/aigate"));
        assertEquals(InjectorSettings.Flavour.JVM, InjectorSettings.Flavour.of("registry:5000/aigate:1.0"));
    }

    @Test
    void eachFlavourGetsItsOwnDefaultsAndFlagsWin() {
        InjectorSettings auto = InjectCommand.settings("--image", "ghcr.io/aigate/aigate:0.2.0");
        assertEquals("288Mi", auto.memoryLimit("ghcr.io/aigate/aigate:0.2.0"));
        assertEquals("224Mi", auto.memoryRequest("ghcr.io/aigate/aigate:0.2.0"));
        // a pod's aigate.io/image is judged by its own tag
        assertEquals("128Mi", auto.memoryLimit("ghcr.io/aigate/aigate:0.2.0-native"));

        InjectorSettings nativeByFlag =
                InjectCommand.settings("--image", "ghcr.io/aigate/aigate:0.2.0", "--flavour", "NATIVE");
        assertEquals("128Mi", nativeByFlag.memoryLimit("ghcr.io/aigate/aigate:0.2.0"));
        assertEquals("96Mi", nativeByFlag.memoryRequest("ghcr.io/aigate/aigate:0.2.0"));

        InjectorSettings explicit =
                InjectCommand.settings("--image", "ghcr.io/aigate/aigate:0.2.0", "--memory-limit", "512Mi");
        assertEquals("512Mi", explicit.memoryLimit("ghcr.io/aigate/aigate:0.2.0-native"));
        assertEquals("224Mi", explicit.memoryRequest("ghcr.io/aigate/aigate:0.2.0"));
    }
}
