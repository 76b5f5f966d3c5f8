"""Words on the handheld's screens, English and simplified Chinese.

T[key] = (English, Chinese). The font generator reads this file, so every character
here has a glyph. Numbers and units are formatted in code; drug names, doses and
citations come from the dose table, in both languages.
"""

EN = 0
ZH = 1

T = {
    "app": ("mmrenal", "mmrenal"),
    "patient": ("Patient", "患者"),
    "renal": ("Kidney function", "肾功能"),
    "drugs": ("Drug doses", "药物剂量"),
    "flc": ("Free light chains", "游离轻链"),
    "table": ("Dose table", "剂量表"),
    "settings": ("Settings", "设置"),
    "age": ("Age", "年龄"),
    "sex": ("Sex", "性别"),
    "female": ("female", "女"),
    "male": ("male", "男"),
    "weight": ("Weight", "体重"),
    "height": ("Height", "身高"),
    "scr": ("Creatinine", "肌酐"),
    "policy": ("Weight rule", "体重规则"),
    "dialysis": ("Dialysis", "透析"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "calculate": ("Calculate", "计算"),
    "crcl": ("CrCl", "CrCl"),
    "egfr": ("eGFR", "eGFR"),
    "bsa": ("BSA", "体表面积"),
    "weight_used": ("Weight used", "所用体重"),
    "imwg": ("IMWG renal impairment", "IMWG肾损害"),
    "aki": ("AKI: creatinine rising, CrCl overstates", "AKI：肌酐上升，CrCl偏高"),
    "on_dialysis": ("On dialysis: use dialysis dose", "透析中：用透析剂量"),
    "standard": ("STANDARD DOSE", "标准剂量"),
    "adjusted": ("ADJUSTED DOSE", "调整剂量"),
    "uncertain": ("UNCERTAIN: NO DOSE", "尚不确定：无剂量"),
    "ask": ("Ask the pharmacist", "请咨询药师"),
    "source": ("Source", "来源"),
    "no_table": ("NO VALID DOSE TABLE", "无有效剂量表"),
    "no_table_2": ("Kidney function only, no doses", "仅计算肾功能，不给剂量"),
    "expired": ("TABLE EXPIRED", "剂量表已过期"),
    "clock_unset": ("Clock not set", "时钟未设置"),
    "version": ("Version", "版本"),
    "expires": ("Expires", "到期"),
    "approver": ("Approver", "审批人"),
    "language": ("Language", "语言"),
    "lang_name": ("English", "中文"),
    "keys": ("A up  B down  X ok  Y back", "A上 B下 X确定 Y返回"),
    "out_of_range": ("Out of range", "超出范围"),
    "error": ("Error: restarted safely", "错误：已安全重启"),
    "reduction": ("Reduction", "下降"),
    "half_life": ("Half-life", "半衰期"),
    "on_track": ("Day 21: on track", "第21天：达标中"),
    "off_track": ("Day 21: NOT on track", "第21天：未达标"),
    "storage_full": ("STORAGE FULL", "存储已满"),
    "no_patient": ("no patient chosen", "未选择患者"),
    "audit_full": ("AUDIT LOG FULL: pull it", "审计日志已满：请导出"),
}


def t(key, lang):
    return T[key][lang]
