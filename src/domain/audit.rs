//! The audit log's vocabulary: what kind of object an entry is about, and each action in words.

/// The kind of object an audit entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectType {
    Unit,
    /// An account (staff or unit): sign-ins, passwords, staff edits.
    User,
    Group,
    /// A post-visit registration.
    Visit,
    /// A unit's change request.
    Change,
    /// A login ID that failed to sign in (it may name no account).
    Login,
    /// A mobile number an SMS code was sent to (masked).
    Mobile,
    /// A text an administrator edits (notices, help).
    Content,
    Settings,
    District,
    AttachmentType,
    Export,
    Country,
    Mission,
    Port,
    /// An entry of a code list ("purpose:business").
    Code,
    /// The access log (个人信息访问记录): a query of it ("passport", "user:12").
    AccessLog,
    /// A data key of the key file (its number): a rotation.
    DataKey,
    ApiToken,
    /// A message of the SMS queue (its number).
    Sms,
}

impl ObjectType {
    pub const ALL: [ObjectType; 20] = [
        ObjectType::Unit,
        ObjectType::User,
        ObjectType::Group,
        ObjectType::Visit,
        ObjectType::Change,
        ObjectType::Login,
        ObjectType::Mobile,
        ObjectType::Content,
        ObjectType::Settings,
        ObjectType::District,
        ObjectType::AttachmentType,
        ObjectType::Export,
        ObjectType::Country,
        ObjectType::Mission,
        ObjectType::Port,
        ObjectType::Code,
        ObjectType::AccessLog,
        ObjectType::DataKey,
        ObjectType::ApiToken,
        ObjectType::Sms,
    ];

    /// The `object_type` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Unit => "unit",
            ObjectType::User => "user",
            ObjectType::Group => "group",
            ObjectType::Visit => "visit",
            ObjectType::Change => "change",
            ObjectType::Login => "login",
            ObjectType::Mobile => "mobile",
            ObjectType::Content => "content",
            ObjectType::Settings => "settings",
            ObjectType::District => "district",
            ObjectType::AttachmentType => "attachment_type",
            ObjectType::Export => "export",
            ObjectType::Country => "country",
            ObjectType::Mission => "mission",
            ObjectType::Port => "port",
            ObjectType::Code => "code",
            ObjectType::AccessLog => "access_log",
            ObjectType::DataKey => "data_key",
            ObjectType::ApiToken => "api_token",
            ObjectType::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectType> {
        ObjectType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where the audit log's hash chain breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry does not link to the one before it (an entry deleted or inserted).
    Link,
    /// An entry's content does not match its hash.
    Altered,
    /// The last entry is not the chain's head (entries deleted at the end).
    Tail,
    /// An entry's keyed link (HMAC-SM3 under the audit key) does not match: the entry or the
    /// chain was rewritten by someone without the key.
    KeyedLink,
    /// An entry after the start of the keyed chain has no keyed link (written or rewritten
    /// without the key).
    Unlinked,
}

impl ChainBreak {
    pub fn message(self) -> &'static str {
        match self {
            ChainBreak::Link => "与前一条记录的链接不符（记录被删除或插入）",
            ChainBreak::Altered => "记录内容被修改",
            ChainBreak::Tail => "最后的记录与链头不符（末尾的记录被删除）",
            ChainBreak::KeyedLink => {
                "记录的密钥校验值（HMAC-SM3）不符：记录或哈希链被不持有审计密钥者改写"
            }
            ChainBreak::Unlinked => {
                "记录缺少密钥校验值（HMAC-SM3）：在密钥链开始后由不持有审计密钥者写入或改写"
            }
        }
    }
}

/// An action in words, for timelines and the audit log (the code itself when it has none).
pub fn action_label(action: &str) -> &str {
    match action {
        "api_token.create" => "创建API令牌",
        "sms.failed" => "短信发送失败",
        "sms.unknown" => "短信发送结果不明",
        "sms.resend" => "重新发送短信",
        "api_token.revoke" => "吊销API令牌",
        "api.use" => "通过API访问",
        "unit.create" => "创建注册帐号",
        "unit.update" => "修改注册信息",
        "unit.attachment" => "上传附件",
        "unit.submit" => "提交注册",
        "unit.county_approve" => "县区外办初审通过",
        "unit.city_approve" => "市外办审核通过",
        "unit.county_return" => "县区外办退回补充",
        "unit.city_return" => "市外办退回补充",
        "unit.mobile" => "修改绑定手机",
        "change.update" => "修改变更申请",
        "change.attachment" => "上传变更附件",
        "change.submit" => "提交变更申请",
        "change.county_approve" => "县区外办初审通过变更",
        "change.city_approve" => "市外办审核通过变更",
        "change.county_return" => "县区外办退回变更",
        "change.city_return" => "市外办退回变更",
        "group.create" => "新建团组",
        "group.save" => "保存团组",
        "group.file" => "上传附件",
        "group.print" => "打印申请表",
        "group.submit" => "提交团组",
        "group.county_approve" => "县区外办初审通过",
        "group.county_return" => "县区外办退件",
        "group.city_return" => "市外办退件",
        "group.accept" => "市外办受理",
        "group.report" => "上报外交部",
        "group.dispatch" => "发件",
        "group.withdraw" => "撤回团组",
        "group.delete" => "删除草稿",
        "group.ministry_refuse" => "外交部不予核实",
        "group.cancel" => "取消邀请",
        "group.copy" => "再次邀请",
        "rating.submit" => "评价",
        "rating.reply" => "差评整改办结",
        "message.send" => "发送站内信",
        "staff.create" => "创建工作人员帐号",
        "settings.update" => "修改系统设置",
        "access.query" => "查询个人信息访问记录",
        "keys.rotate" => "更换数据加密密钥",
        "personal_data.erase" => "删除到期个人信息",
        "content.update" => "修改须知或帮助",
        "unit.blacklist" => "列入失信企业名单",
        "unit.unblacklist" => "移出失信企业名单",
        "unit.mobile_by_staff" => "工作人员更换绑定手机",
        "unit.reset_password" => "重置单位密码",
        "staff.update" => "修改工作人员帐号",
        "staff.reset_password" => "重置工作人员密码",
        "visit.save" => "保存销签登记",
        "visit.file" => "上传扫描件",
        "visit.submit" => "提交销签登记",
        "visit.county_approve" => "县区外办审核通过",
        "visit.county_return" => "县区外办退回",
        "visit.city_return" => "市外办退回",
        "visit.complete" => "已销签",
        "visit.overdue_reminder" => "逾期提醒",
        "message.broadcast" => "发送通知",
        "template.replace" => "更换样式模板",
        "export" => "导出Excel",
        "refdata.add" => "新增基础数据",
        "refdata.update" => "修改基础数据",
        "refdata.retire" => "停用基础数据",
        "refdata.restore" => "恢复使用基础数据",
        "login.success" => "登录",
        "login.failed" => "登录失败",
        "login.lockout" => "帐号锁定",
        "login.locked_refused" => "锁定期间登录",
        "login.address_refused" => "地址锁定期间登录",
        "login.refused_blacklisted" => "失信单位登录",
        "password.wrong_current" => "原密码错误",
        "password.current_locked" => "原密码错误次数过多",
        "registration.login_id_limited" => "登录ID检查次数过多",
        "password.recovery_limited" => "找回密码查询次数过多",
        "logout" => "注销",
        "password.change" => "修改密码",
        "password.reset_by_sms" => "短信重置密码",
        "login.second_factor_asked" => "密码正确，待两步验证",
        "login.second_factor_failed" => "动态验证码错误",
        "login.second_factor_locked" => "动态验证码错误次数过多",
        "second_factor.enrol" => "启用两步验证",
        "second_factor.disable" => "停用两步验证",
        "second_factor.reset" => "重置两步验证",
        "second_factor.recovery_code_used" => "使用恢复码",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_types_read_back() {
        for t in ObjectType::ALL {
            assert_eq!(ObjectType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ObjectType::parse("nothing"), None);
    }
}
