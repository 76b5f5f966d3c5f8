# MicroPython only: the home screen's title bar shows USB power or the battery level
# read by board.power() (GPIO24 VBUS sense, ADC3 = VSYS/3 on a Pico). heap: sim
import board
import canvas
import text
import ui
from check import check, done, fake_machine


class Pin:
    IN = 0
    levels = {24: 0}

    def __init__(self, n, mode=-1):
        self.n = n

    def value(self):
        return Pin.levels[self.n]


class ADC:
    raw = 0

    def __init__(self, n):
        assert n == 29

    def read_u16(self):
        return ADC.raw


fake_machine(Pin=Pin, ADC=ADC)
ADC.raw = 3900 * 65535 // 9900  # VSYS 3.9 V on battery
check("board.power on battery", board.power(), (False, 3899))
c = canvas.Canvas(canvas.NullDisplay())
u = ui.UI(c, text.Writer(c), None, lambda: 13900000, power=board.power)
u.log = []
u.draw()
check("battery level on home: (3899 - 3400) / 700 -> 70%", "70%" in u.log, True)
ADC.raw = 3500 * 65535 // 9900
u.log.clear()
u.draw()
check("low battery: 10%", "10%" in u.log, True)
Pin.levels[24] = 1
u.log.clear()
u.draw()
check("on USB", "USB" in u.log, True)
u.push(ui.SafeScreen("renal", "error", "ask"))
u.log.clear()
u.draw()
check("other screens: no power text", "USB" in u.log, False)
done()
