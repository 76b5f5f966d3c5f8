# Every validated range: both ends accepted, one step beyond refused, naming the field.
import body
import crcl
import egfr
import limits
from check import check, done, refused

MG = 884

for spec, lo_text, hi_text, below, above in (
    (limits.AGE, "18", "110", "17", "111"),
    (limits.WEIGHT, "25.0", "300", "24.9", "300.1"),
    (limits.HEIGHT, "120", "230.0", "119.9", "230.1"),
    (limits.SCR_MG_DL, "0.10", "25.00", "0.09", "25.01"),
    (limits.SCR_UMOL_L, "8.9", "2210", "8.8", "2210.1"),
):
    name = spec[0] + " " + spec[1]
    check(name + " low end", limits.parse(spec, lo_text), spec[3])
    check(name + " high end", limits.parse(spec, hi_text), spec[4])
    refused(name + " below", lambda s=spec, t=below: limits.parse(s, t), spec[0])
    refused(name + " above", lambda s=spec, t=above: limits.parse(s, t), spec[0])

refused("too many decimals", lambda: limits.parse(limits.WEIGHT, "58.25"), "weight")
refused("comma decimal", lambda: limits.parse(limits.WEIGHT, "58,5"), "weight")
refused("empty", lambda: limits.parse(limits.HEIGHT, ""), "height")
refused("negative", lambda: limits.parse(limits.AGE, "-40"), "age")
refused("huge", lambda: limits.parse(limits.AGE, "99999999999999"), "age")
refused("two points", lambda: limits.parse(limits.SCR_MG_DL, "1.2.3"), "scr")
refused("unit missing", lambda: limits.parse_unit(None), "scr_unit")
refused("unit unknown", lambda: limits.parse_unit("mmol/L"), "scr_unit")
check("unit umol with micro sign", limits.parse_unit("\u00b5mol/L"), limits.UNIT_UMOL_L)
refused("sex unknown", lambda: limits.parse_sex("X"), "sex")
check("sex female word", limits.parse_sex(" Female "), 1)

# The core checks integers from any caller (UI, stored records), not only text.
refused("CG age 111", lambda: crcl.crcl(111, 0, 700, 1, 100 * MG), "age")
refused("CG scr 0.09 mg/dL", lambda: crcl.crcl(60, 0, 700, 1, 9 * MG), "scr")
refused("eGFR age 17", lambda: egfr.egfr(17, 1, 100 * MG), "age")
refused("eGFR scr above 25 mg/dL", lambda: egfr.egfr(60, 1, 2501 * MG), "scr")
refused("BSA weight 300.1", lambda: body.bsa(3001, 1700), "weight")
refused("IBW height 119.9", lambda: body.ibw(0, 1199), "height")
refused("pharmacy percentage 151", lambda: body.weight_basis(body.PHARMACY_RULE, 0, 700, 1700, 151), "obese_pct")
done()
